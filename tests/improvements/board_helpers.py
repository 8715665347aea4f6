"""Helpers for board tests: what a column holds, and cards placed where a test needs them."""

from django.urls import reverse

from improvements.models import Improvement
from tests.factories import ImprovementFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


def move(client, card, column, htmx=True, query="", **where):
    """Post a move of `card` into `column` as board.js does (htmx) or the move form does.

    `where` names the place: after=<card pk>, before=<card pk> or place="top"/"bottom".
    """
    url = reverse("board:card_move", args=[card.pk]) + query
    return client.post(url, {"column": column.pk, **where}, **(HTMX if htmx else {}))


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


def column_settings_form(columns, **changes) -> dict:
    """The column settings form as a browser posts it, with `changes` per column name."""
    data = {
        "form-TOTAL_FORMS": str(len(columns) + 1),
        "form-INITIAL_FORMS": str(len(columns)),
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
    }
    for index, column in enumerate(columns):
        values = {
            "id": column.pk,
            "name": column.name,
            "position": column.position,
            "state": column.state,
            "wip_limit": column.wip_limit or "",
        } | changes.get(column.name, {})
        for key, value in values.items():
            data[f"form-{index}-{key}"] = value
    extra = {"state": "backlog"} | changes.get("new", {})  # the select's first choice
    for key in ("name", "position", "state", "wip_limit"):
        data[f"form-{len(columns)}-{key}"] = extra.get(key, "")
    return data
