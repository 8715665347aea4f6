"""Board card markup, built in Python: a board shows up to thousands of cards, and a template
loop is far slower at 1,000 cards than this format string (docs/performance.md#board-cards).

The markup contract with static/js/board.js
============================================

This docstring is the one place that lists what board.js relies on; board.js points here, and
tests/improvements/test_board_markup_contract.py checks the rendered board against the lists
below. Change them together.

The card, rendered here: the same on the board page, in the columns a move answers with and in
a poll::

    <li class="board-card cat-{category}" id="card-{pk}">
      <a href="{detail url}">{title}</a><div class="meta">…</div></li>

- ``li.board-card``: what a drag, a hover and a focus act on (``closest("li.board-card")``).
- ``id="card-{pk}"``: the card's id for a move (``cardId``) and for landing it after one.
- the first child ``a`` (``li.board-card > a``): opened in the card dialog; its text is the
  title the move buttons name.

The board page around the cards (templates/improvements/board.html):

- ``#board`` with ``data-can-edit`` ("true" enables drag and the move toolbar),
  ``data-etag`` (the poll's If-None-Match), ``data-poll-url`` and ``data-move-url`` (the move
  URL of card 0: board.js puts the card's id in place of ``/0/``).
- ``section.board-column`` with ``id="column-{pk}"``: a poll answer with a column id the page
  lacks means the columns changed, so the page reloads.
- ``ul.cards`` with ``id="cards-{pk}"`` and ``data-column="{pk}"``: the sortable lists; a move
  posts ``data-column`` as its column and lands a card in ``#cards-{column}``.
- ``#board-status``: the live region moves are announced in.
- ``#card-dialog`` and ``#card-dialog-body``: the card dialog; in it the move form's
  ``#move-column`` and ``#move-place`` with an ``optgroup[data-column]`` per column
  (templates/improvements/improvement_detail.html).

Events the server sends (HX-Trigger): ``cardMoved`` with ``card``, ``column``, ``after``,
``before`` and ``bottom``; ``cardAdded`` with ``card``; ``cardChanged`` with ``message``.

board.js brings the move controls (↑, ↓, Move…) into a card when it is hovered or focused: one
toolbar for the whole board rather than a form per card keeps a card under 400 bytes
(docs/performance.md#board-bytes-per-card; bench/run.py measures it). Without JavaScript the
title opens the card's page, whose Move… form does every move.
"""

import datetime
from dataclasses import dataclass
from html import escape

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from retros.people import name_from_parts

from .issue_links import issue_reference
from .models import Column, Improvement

# What a card on the board needs, read as plain rows: building 1,000 model instances (and
# their category, unit and assignee) costs more than rendering them
# (docs/performance.md#board-cards).
CARD_FIELDS = {
    "pk": "pk",
    "title": "title",
    "column_id": "column_id",
    "category_id": "category_id",
    "category_name": "category__name",
    "unit_name": "unit__name",
    "assignee_username": "assignee__username",
    "assignee_first_name": "assignee__first_name",
    "assignee_last_name": "assignee__last_name",
    "target_step_title": "target_step__title",
    "effect_verdict": "effect_verdict",
    "column_entered_at": "column_entered_at",
    "recurrence": "recurrence",
    "external_link": "external_link",
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
    assignee_first_name: str | None
    assignee_last_name: str | None
    target_step_title: str | None
    effect_verdict: str
    column_entered_at: datetime.datetime
    recurrence: int
    external_link: str
    previous_id: int | None = None
    next_id: int | None = None

    @classmethod
    def rows(cls, cards: QuerySet[Improvement]) -> list["BoardCard"]:
        """The board cards of a queryset annotated with `recurrence`, in its order."""
        return [cls(*row) for row in cards.values_list(*CARD_FIELDS.values())]


_PLACEHOLDER = 2_147_483_647


def _url_pattern(name: str) -> str:
    return reverse(name, args=[_PLACEHOLDER]).replace(str(_PLACEHOLDER), "{pk}")


class CardRenderer:
    """Renders the cards of board columns for one request.

    `html.escape` escapes exactly as Django's `escape` (which wraps it), without the lazy-string
    wrapper; the joined result is marked safe once. `can_edit`, `query` and `csrf_token` are
    kept for callers: the move controls live in board.js, so a card carries no form.
    """

    def __init__(self, *, can_edit: bool = False, query: str = "", csrf_token: str = "") -> None:
        self.can_edit = can_edit
        self.detail_url = _url_pattern("board:improvement_detail")
        self.now = timezone.now()

    def column(self, column: Column) -> SafeString:
        return mark_safe("".join(self.card(card, column) for card in column.cards))  # noqa: S308

    def card(self, card: BoardCard, column: Column | None = None) -> str:
        meta = [f"<b>{escape(card.category_name)}</b>"]
        if card.unit_name:
            meta.append(f"<span>{escape(card.unit_name)}</span>")
        if card.assignee_username:
            name = name_from_parts(
                card.assignee_first_name, card.assignee_last_name, card.assignee_username
            )
            meta.append(f"<span>{escape(name)}</span>")
        days = (self.now - card.column_entered_at).days
        meta.append(f'<span title="{days} days in column">{days}d</span>')
        recurrence = card.recurrence
        if recurrence > 1:
            meta.append(f'<em title="raised by {recurrence} retros">×{recurrence}</em>')
        if card.target_step_title:
            meta.append(f"<span>⚙ {escape(card.target_step_title)}</span>")
        if card.external_link and (issue := issue_reference(card.external_link)):
            # issue_reference only reads http(s) URLs, so the href is never javascript: etc.
            meta.append(
                f'<a class="issue-key" href="{escape(card.external_link)}" '
                f'rel="noopener noreferrer" title="{issue.label} issue">{escape(issue.key)}</a>'
            )
        if card.effect_verdict != Improvement.Verdict.PENDING:
            verdict = Improvement.Verdict(card.effect_verdict)
            meta.append(f'<i class="verdict-{verdict.value}">{verdict.label}</i>')
        return (
            f'<li class="board-card cat-{card.category_id}" id="card-{card.pk}">'
            f'<a href="{self.detail_url.format(pk=card.pk)}">{escape(card.title)}</a>'
            f'<div class="meta">{"".join(meta)}</div></li>'
        )
