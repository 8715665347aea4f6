"""Retro triage: a retro's findings as triage rows, and the open cards that may already hold
them (similar.py)."""
