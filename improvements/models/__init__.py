"""The improvements app's models, one module per domain, importable from here as before."""

from .board import (
    COUNT_RULE,
    FINISHED_CARDS_SHOWN_FOR,
    FINISHED_CARDS_SHOWN_WEEKS,
    POSITION_GAP,
    Category,
    Column,
    Improvement,
    ImprovementQuerySet,
    MoveError,
)
from .history import Comment, Event
from .links import FindingLink, record_unlink

__all__ = [
    "COUNT_RULE",
    "FINISHED_CARDS_SHOWN_FOR",
    "FINISHED_CARDS_SHOWN_WEEKS",
    "POSITION_GAP",
    "Category",
    "Column",
    "Comment",
    "Event",
    "FindingLink",
    "Improvement",
    "ImprovementQuerySet",
    "MoveError",
    "record_unlink",
]
