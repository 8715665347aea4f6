"""Board card markup, built in Python: a board shows up to thousands of cards, and the
template engine spends about a millisecond on each, the format string below a few microseconds.

The markup is the same on the board page, in the columns a move answers with and in a poll.
"""

import datetime
from dataclasses import dataclass
from html import escape

from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from .models import Column, Improvement

# What a card on the board needs, read as plain rows: building 1,000 model instances (and
# their category, unit and assignee) costs more than rendering them.
CARD_FIELDS = {
    "pk": "pk",
    "title": "title",
    "column_id": "column_id",
    "category_id": "category_id",
    "category_name": "category__name",
    "unit_name": "unit__name",
    "assignee_username": "assignee__username",
    "target_step_title": "target_step__title",
    "effect_verdict": "effect_verdict",
    "column_entered_at": "column_entered_at",
    "recurrence": "recurrence",
}


@dataclass(slots=True)
class BoardCard:
    pk: int
    title: str
    column_id: int
    category_id: int
    category_name: str
    unit_name: str | None
    assignee_username: str | None
    target_step_title: str | None
    effect_verdict: str
    column_entered_at: datetime.datetime
    recurrence: int
    previous_id: int | None = None
    next_id: int | None = None

    @classmethod
    def rows(cls, cards) -> list["BoardCard"]:
        """The board cards of a queryset annotated with `recurrence`, in its order."""
        return [cls(*row) for row in cards.values_list(*CARD_FIELDS.values())]


_PLACEHOLDER = 2_147_483_647


def _url_pattern(name: str) -> str:
    return reverse(name, args=[_PLACEHOLDER]).replace(str(_PLACEHOLDER), "{pk}")


class CardRenderer:
    """Renders the cards of board columns for one request (its filters, rights and token).

    `html.escape` escapes exactly as Django's `escape` (which wraps it), without the lazy-string
    wrapper; the joined result is marked safe once.
    """

    def __init__(self, *, can_edit: bool, query: str, csrf_token: str) -> None:
        self.can_edit = can_edit
        self.query = escape(query)
        self.csrf_token = escape(csrf_token)
        self.detail_url = _url_pattern("improvement_detail")
        self.move_url = _url_pattern("card_move")
        self.now = timezone.now()

    def column(self, column: Column) -> SafeString:
        return mark_safe("".join(self.card(card, column) for card in column.cards))  # noqa: S308

    def card(self, card: BoardCard, column: Column) -> str:
        pk = card.pk
        title = escape(card.title)
        meta = [f'<span class="badge category">{escape(card.category_name)}</span>']
        if card.unit_name:
            meta.append(f'<span title="owning unit">{escape(card.unit_name)}</span>')
        if card.assignee_username:
            meta.append(f'<span title="assignee">@{escape(card.assignee_username)}</span>')
        meta.append(
            f'<span title="days in this column">{(self.now - card.column_entered_at).days}d'
            '<span class="visually-hidden"> in this column</span></span>'
        )
        recurrence = card.recurrence
        if recurrence > 1:
            meta.append(
                f'<span class="badge warn" title="raised by {recurrence} retros">×{recurrence}'
                '<span class="visually-hidden"> retros raised it</span></span>'
            )
        if card.target_step_title:
            meta.append(
                f'<span title="targets process step">⚙ {escape(card.target_step_title)}</span>'
            )
        if card.effect_verdict != Improvement.Verdict.PENDING:
            verdict = Improvement.Verdict(card.effect_verdict)
            meta.append(f'<span class="badge verdict-{verdict.value}">{verdict.label}</span>')
        detail = self.detail_url.format(pk=pk)
        html = (
            f'<li class="board-card cat-{card.category_id}" id="card-{pk}" data-card="{pk}" '
            f'tabindex="-1"><a class="title" id="open-{pk}" href="{detail}" hx-get="{detail}" '
            f'hx-target="#card-dialog-body">{title}</a><div class="meta">{"".join(meta)}</div>'
        )
        if self.can_edit:
            html += self._actions(card, column, title)
        return html + "</li>"

    def _actions(self, card: BoardCard, column: Column, title: str) -> str:
        pk = card.pk
        move = self.move_url.format(pk=pk) + self.query
        up = card.previous_id
        down = card.next_id
        return (
            f'<form class="card-actions" method="post" action="{move}" hx-post="{move}" '
            f'hx-swap="none"><input type="hidden" name="csrfmiddlewaretoken" '
            f'value="{self.csrf_token}"><input type="hidden" name="column" value="{column.pk}">'
            f'<button type="submit" class="small" id="up-{pk}" name="before" '
            f'value="{up or ""}"{"" if up else " disabled"} '
            f'aria-label="Move up: {title}">↑</button>'
            f'<button type="submit" class="small" id="down-{pk}" name="after" '
            f'value="{down or ""}"{"" if down else " disabled"} '
            f'aria-label="Move down: {title}">↓</button>'
            f'<a class="button small" id="move-{pk}" href="{move}" hx-get="{move}" '
            f'hx-target="#card-dialog-body" hx-swap="innerHTML" '
            f'aria-label="Move to…: {title}">Move…</a></form>'
        )
