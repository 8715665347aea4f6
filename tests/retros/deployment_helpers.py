"""Helpers for the deployment log's tests."""


def form_data(**overrides):
    """The deployment form as a browser posts it, with `overrides`."""
    data = {
        "environment": "production",
        "started_at": "2026-03-03T10:00",
        "finished_at": "2026-03-03T11:30",
        "hands_on_minutes": "40",
        "deployer": "",
        "shadow": "",
        "result": "success",
        "blocked_minutes": "0",
        "blocked_cause": "",
        "restarts": "1",
        "manual_steps_done": "12",
        "trigger": "manual",
        "version": "v1.4.2",
        "notes": "Smoke tests by hand.",
    }
    data.update(overrides)
    return data
