"""What the board tells chat and other systems: outbox messages for card events.

Built from what the change already has in hand (no extra query for the card's snapshot), and
written by the caller in the change's own transaction (retros.outbox.enqueue).
"""

import datetime

from django.template.loader import render_to_string
from django.urls import reverse

from retros.models import OutboxMessage
from retros.outbox import EXPANDERS, LINKS, absolute, message

from .models import Column, Improvement


def card_snapshot(card: Improvement) -> dict:
    column = card.column
    issue = card.issue
    return {
        "id": card.pk,
        "title": card.title,
        "url": absolute(card.get_absolute_url()),
        "column": {"id": column.pk, "name": column.name, "state": column.state},
        "category_id": card.category_id,
        "unit_id": card.unit_id,
        "assignee_id": card.assignee_id,
        "external_link": card.external_link,
        "issue": {"tracker": issue.tracker, "key": issue.key} if issue else None,
        "effect_verdict": card.effect_verdict,
    }


def _actor(actor) -> str | None:
    return actor.get_username() if actor is not None else None


def card_created(card: Improvement, actor) -> OutboxMessage:
    return message(
        "card.created",
        f"New improvement: “{card.title}” in {card.column.name}.",
        link=absolute(card.get_absolute_url()),
        unit=card.unit_id,
        data={"card": card_snapshot(card), "actor": _actor(actor)},
    )


def card_moved(
    card: Improvement, source_id: int, target: Column, actor, *, over_limit_by: int = 0
) -> list[OutboxMessage]:
    """card.moved always; card.done when it reached a done column; column.over_wip when this
    move took its column past the WIP limit."""
    link = absolute(card.get_absolute_url())
    data = {
        "card": card_snapshot(card),
        "from_column_id": source_id,
        "to_column_id": target.pk,
        "actor": _actor(actor),
    }
    messages = [
        message(
            "card.moved",
            f"“{card.title}” moved to {target.name}.",
            link=link,
            unit=card.unit_id,
            data=data,
        )
    ]
    if source_id != target.pk and target.state == Column.State.DONE:
        by = f" by {_actor(actor)}" if actor is not None else ""
        messages.append(
            message(
                "card.done",
                f"Done: “{card.title}”{by}.",
                link=link,
                unit=card.unit_id,
                data=data,
            )
        )
    if over_limit_by > 0:
        messages.append(
            message(
                "column.over_wip",
                f"{target.name} is over its WIP limit: {target.wip_limit + over_limit_by} "
                f"cards for a limit of {target.wip_limit}, since “{card.title}” arrived.",
                link=absolute("/board/"),
                unit=card.unit_id,
                data={"column_id": target.pk, "card": card.pk},
            )
        )
    return messages


def verdict_set(card: Improvement, actor, previous: str) -> OutboxMessage:
    return message(
        "card.verdict",
        f"“{card.title}”: effect verdict {card.get_effect_verdict_display()}.",
        link=absolute(card.get_absolute_url()),
        unit=card.unit_id,
        data={"card": card_snapshot(card), "previous": previous, "actor": _actor(actor)},
    )


def weekly_update_text(submitted: OutboxMessage) -> str:
    """The retro-submitted line followed by the week's update, in markdown."""
    from retros.weeks import parse_iso_week

    from .reporting.weekly_update import weekly_summary

    monday: datetime.date = parse_iso_week(submitted.data["week"])
    summary = weekly_summary(monday) | {"site_url": absolute("")}
    update = render_to_string("improvements/weekly_update.md", summary).strip()
    return f"{submitted.text}\n\n{update}"


def weekly_update_path(data: dict) -> str:
    return reverse("reporting:weekly_update", args=[data["week"]])


def register() -> None:
    EXPANDERS["retro.submitted"] = weekly_update_text
    LINKS["retro.submitted"] = weekly_update_path
