"""Helpers for board tests: what a column holds, and cards placed where a test needs them."""

from improvements.models import Improvement
from tests.factories import ImprovementFactory


def titles_in(column) -> list[str]:
    """The titles of the cards in `column`, top to bottom."""
    return list(
        Improvement.objects.filter(column=column)
        .order_by("position")
        .values_list("title", flat=True)
    )


def cards_at(column, **positions: int) -> list[Improvement]:
    """Cards titled by the keywords at those positions in `column`: cards_at(ideas, A=1000)."""
    return [
        ImprovementFactory(title=title, column=column, position=position)
        for title, position in positions.items()
    ]
