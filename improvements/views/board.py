"""Views of the improvement board: the board itself, its columns' cards, moves, quick-add and
live updates."""

import datetime
import hashlib
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Q, Subquery
from django.http import HttpResponse, HttpResponseNotModified
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from retros.http import HtmxHttpRequest
from retros.models import Unit

from ..board_cards import BoardCard, CardRenderer
from ..forms.board import BoardFilterForm, MoveForm, QuickAddForm
from ..models import (
    FINISHED_CARDS_SHOWN_WEEKS,
    Category,
    Column,
    Event,
    Improvement,
    ImprovementQuerySet,
    MoveError,
)
from ..operations import create_improvement, guess_category
from ..permissions import can_edit_board
from .cards import full_detail_context, get_card_for_editor


def _require_board_editor(request: HtmxHttpRequest) -> None:
    if not can_edit_board(request.user):
        raise PermissionDenied("Only members of a unit may change the board.")


def _board_cards(
    filters: BoardFilterForm, user: User, columns: list[Column]
) -> ImprovementQuerySet:
    finished = [column.pk for column in columns if column.is_finished]
    cards = Improvement.objects.on_board(finished, show_all=filters.show_all)
    return filters.apply(cards, user).with_recurrence().order_by("position")


def _fill_columns(
    columns: list[Column], cards: ImprovementQuerySet, filters: BoardFilterForm
) -> list[Column]:
    """Hang each column's cards on it, with its WIP count and each card's neighbours.

    A count means the cards the board shows in the column (models.COUNT_RULE). On a filtered
    board it still covers every such card, not only the matches (one more query), so a WIP
    limit is never hidden by a filter; the page says how many are shown.
    """
    by_column: dict[int, list[BoardCard]] = {column.pk: [] for column in columns}
    for card in BoardCard.rows(cards):
        if card.column_id in by_column:
            by_column[card.column_id].append(card)
    counts = None
    if filters.is_filtering:
        counts = Improvement.board_counts(columns, show_all=filters.show_all)
    for column in columns:
        column.cards = by_column[column.pk]
        column.card_count = counts[column.pk][0] if counts is not None else len(column.cards)
        limit = column.wip_limit if column.has_wip_limit else None
        column.over_limit = limit is not None and column.card_count > limit
        previous = None
        for card in column.cards:
            card.previous_id = previous.pk if previous else None
            card.next_id = None
            if previous:
                previous.next_id = card.pk
            previous = card
    return columns


def _board_etag(request: HtmxHttpRequest, latest_event_id: int | None, layout: str) -> str:
    """Changes with every card change (each writes an event), the columns' layout, the day,
    the user and the URL."""
    query = hashlib.sha256(request.GET.urlencode().encode()).hexdigest()[:12]
    day = timezone.localdate().isoformat()
    return f'W/"{latest_event_id or 0}-{layout}-{day}-{request.user.pk}-{query}"'


def _layout(count: int, changed: datetime.datetime | None) -> str:
    """The columns' shape in a word: how many there are and when one last changed."""
    return f"{count}.{int(changed.timestamp() * 1_000_000) if changed else 0}"


def _board_version() -> tuple[int | None, str]:
    """The latest event and the columns' layout, in one query: all a poll needs for its 304."""
    latest = Event.objects.order_by("-pk").values("pk")[:1]
    # Max() of the scalar subquery only carries the latest event id through aggregate().
    version = Column.objects.aggregate(
        count=Count("pk"), changed=Max("updated_at"), latest=Max(Subquery(latest))
    )
    return version["latest"], _layout(version["count"], version["changed"])


def _etag_layout(etag: str) -> str:
    return etag.removeprefix('W/"').split("-")[1] if etag.count("-") >= 2 else ""


# Past this many events since the viewer's copy, send the whole board rather than sift them.
POLL_EVENTS_SIFTED = 500


def _columns_changed_since(
    request: HtmxHttpRequest, columns: list[Column], layout: str
) -> list[Column]:
    """The columns touched by events newer than the viewer's ETag, so a poll sends only those.

    Falls back to every column when the ETag is from another day, user or filter.
    """
    seen = request.headers.get("If-None-Match", "")
    since, _, rest = seen.removeprefix('W/"').partition("-")
    current = _board_etag(request, 0, layout).removeprefix('W/"0')
    if not since.isdigit() or "-" + rest != current:
        return columns
    touched = list(
        Event.objects.filter(pk__gt=int(since)).values_list(
            "from_column_id", "to_column_id", "improvement__column_id"
        )[:POLL_EVENTS_SIFTED]
    )
    if len(touched) == POLL_EVENTS_SIFTED:
        return columns
    ids = {column_id for row in touched for column_id in row}
    return [column for column in columns if column.pk in ids]


def _column_context(
    request: HtmxHttpRequest, filters: BoardFilterForm, **extra: Any
) -> dict[str, Any]:
    renderer = CardRenderer(
        can_edit=extra["can_edit"], query=filters.querystring(), csrf_token=get_token(request)
    )
    for column in extra["columns"]:
        column.cards_html = renderer.column(column)
    return {
        "filters": filters,
        "query": filters.querystring(),
        "show_all_query": filters.querystring(all=True),
        "recent_query": filters.querystring(all=False),
        "finished_weeks": FINISHED_CARDS_SHOWN_WEEKS,
        **extra,
    }


@require_GET
def board(request: HtmxHttpRequest) -> HttpResponse:
    """The board. An htmx poll gets the columns only, or 304 when nothing changed."""
    filters = BoardFilterForm(request.GET)
    polling = request.htmx and request.headers.get("X-Board-Poll")
    seen = request.headers.get("If-None-Match", "")
    if polling and seen:
        latest, layout = _board_version()
        etag = _board_etag(request, latest, layout)
        if seen == etag:
            return HttpResponseNotModified(headers={"ETag": etag})
        if _etag_layout(seen) != layout:
            # A column was added, removed, renamed or reordered: the page reloads itself.
            return HttpResponse(status=205, headers={"X-Board-Layout": "changed"})
    # The latest event rides along with the columns: read before the cards, so a change
    # made while the board renders shows up at the next poll rather than never.
    latest_event = Event.objects.order_by("-pk").values("pk")[:1]
    annotated = list(Column.objects.annotate(latest_event_id=Subquery(latest_event)))
    layout = _layout(len(annotated), max((c.updated_at for c in annotated), default=None))
    etag = _board_etag(request, annotated[0].latest_event_id if annotated else None, layout)
    columns: list[Column] = list(annotated)
    if polling and request.GET.getlist("column"):
        wanted = set(request.GET.getlist("column"))
        columns = [column for column in columns if str(column.pk) in wanted]
    elif polling:
        columns = _columns_changed_since(request, columns, layout)
    columns = _fill_columns(columns, _board_cards(filters, request.user, columns), filters)
    can_edit = can_edit_board(request.user)
    context = _column_context(request, filters, columns=columns, can_edit=can_edit, etag=etag)
    if polling:
        response = render(request, "improvements/board.html#changed-columns", context)
        response["ETag"] = etag
        response["Cache-Control"] = "private, no-cache"
        return response
    user_model = get_user_model()
    context |= {
        "categories": list(Category.objects.all()),
        "units": list(Unit.objects.filter(is_active=True)),
        "people": list(
            user_model.objects.filter(
                Q(units__isnull=False) | Q(assigned_improvements__isnull=False)
            )
            .distinct()
            .order_by("username")
        ),
    }
    return render(request, "improvements/board.html", context)


@require_GET
def category_css(request: HtmxHttpRequest) -> HttpResponse:
    """Category colours as a stylesheet, so no inline style is needed (CSP)."""
    rules = [
        f".cat-{pk} {{ --category: {colour}; }}"
        for pk, colour in Category.objects.values_list("pk", "colour")
    ]
    response = HttpResponse("\n".join(rules), content_type="text/css")
    response["Cache-Control"] = "private, max-age=60"
    return response


def _fill_changed_columns(
    request: HtmxHttpRequest, filters: BoardFilterForm, columns: list[Column]
) -> list[Column]:
    cards = _board_cards(filters, request.user, columns).filter(column__in=columns)
    return _fill_columns(columns, cards, filters)


def _changed_columns_response(
    request: HtmxHttpRequest, filters: BoardFilterForm, columns: list[Column], announcement: str
) -> HttpResponse:
    """Only the columns that changed, swapped out of band, and what to announce."""
    context = _column_context(
        request, filters, columns=columns, can_edit=True, announcement=announcement
    )
    return render(request, "improvements/board.html#changed-columns", context)


def card_move(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Move a card next to a named neighbour, or to the top or bottom of a column.

    htmx gets only the changed columns back (out-of-band swaps); without JavaScript the
    browser returns to the board at the moved card. GET shows the move form.
    """
    if request.method == "GET":
        return _move_form_page(request, pk)
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    card = get_card_for_editor(request, pk)
    source = card.column
    filters = BoardFilterForm(request.GET)
    form = MoveForm(request.POST)
    if not form.is_valid():
        errors = form.errors.get("__all__", ["Choose a column to move the card to."])
        message = " ".join(str(error) for error in errors)
        return HttpResponse(message, status=400, content_type="text/plain")
    data = form.cleaned_data
    try:
        changed = card.move_to(
            data["column"],
            after=data["after"],
            actor=request.user,
            before=data["before"],
            to_bottom=data["to_bottom"],
        )
    except MoveError as error:
        if not request.htmx:
            messages.error(request, str(error))
            return redirect(reverse("board:board") + filters.querystring())
        return HttpResponse(str(error), status=409, content_type="text/plain")
    target = card.column
    announcement = f"Moved “{card.title}” to {target.name}."
    if not request.htmx:
        messages.success(request, announcement)
        return redirect(reverse("board:board") + filters.querystring() + f"#card-{card.pk}")
    columns = sorted({source.pk: source, target.pk: target}.values(), key=lambda c: c.position)
    columns = [c for c in columns if c.pk in changed]
    if not filters.is_filtering:
        response = _moved_card_response(request, filters, card, columns, data)
        return trigger_client_event(response, "cardMoved", _landing(card, data), after="settle")
    columns = _fill_changed_columns(request, filters, columns)
    shown = [c.pk for c in target.cards]
    if card.pk in shown:
        announcement = (
            f"Moved “{card.title}” to {target.name}, "
            f"position {shown.index(card.pk) + 1} of {len(shown)}."
        )
    response = _changed_columns_response(request, filters, columns, announcement)
    return trigger_client_event(response, "cardMoved", _landing(card, data), after="settle")


def _landing(card: Improvement, data: dict) -> dict:
    """Where the page puts the moved card: next to the neighbour the move named."""
    return {
        "card": card.pk,
        "column": card.column_id,
        "after": data["after"],
        "before": data["before"],
        "bottom": bool(data["to_bottom"]),
    }


def _moved_card_response(
    request: HtmxHttpRequest, filters: BoardFilterForm, card: Improvement, columns: list, data: dict
) -> HttpResponse:
    """The changed columns' headers and an announcement, nothing more.

    A move rewrites one card's position, so the rest of each column stays as the page has it:
    the page (board.js) puts the card next to the neighbour the move named, as the cardMoved
    event says, and renumbers the ↑/↓ buttons; the next poll refreshes the card's details.
    The answer stays the same size however long the columns are. (A filtered board gets whole
    columns: its "shown" counts change too.)
    """
    counts = Improvement.board_counts(columns, show_all=filters.show_all, above=card.position)
    for column in columns:
        column.card_count = counts[column.pk][0]
        limit = column.wip_limit if column.has_wip_limit else None
        column.over_limit = limit is not None and column.card_count > limit
    total, ahead = counts[card.column_id]
    context = {
        "columns": columns,
        "announcement": f"Moved “{card.title}” to {card.column.name}, "
        f"position {ahead + 1} of {total}.",
    }
    return render(request, "improvements/board.html#moved-card", context)


def _move_form_page(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    filters = BoardFilterForm(request.GET)
    card = get_object_or_404(Improvement.objects.select_related("column"), pk=pk)
    columns = list(Column.objects.all())
    neighbours = (
        _board_cards(filters, request.user, columns)
        .exclude(pk=card.pk)
        .values_list("pk", "title", "column_id")
    )
    by_column: dict[int, list] = {column.pk: [] for column in columns}
    for neighbour_pk, title, column_id in neighbours:
        by_column.setdefault(column_id, []).append((neighbour_pk, title))
    for column in columns:
        column.neighbours = by_column[column.pk]
    context = {
        "improvement": card,
        "columns": columns,
        "query": filters.querystring(),
        "can_edit": can_edit_board(request.user),
    }
    if request.htmx:
        return render(request, "improvements/improvement_detail.html#move-dialog", context)
    context = {**context, **full_detail_context(request, card.pk)}
    return render(request, "improvements/improvement_detail.html", context)


def _refuse_quick_add(
    request: HtmxHttpRequest, filters: BoardFilterForm, message: str
) -> HttpResponse:
    if not request.htmx:
        messages.error(request, message)
        return redirect(reverse("board:board") + filters.querystring())
    return HttpResponse(message, status=400, content_type="text/plain")


@require_POST
def column_add_card(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Quick-add: a card with just a title at the bottom of a column."""
    _require_board_editor(request)
    column = get_object_or_404(Column, pk=pk)
    filters = BoardFilterForm(request.GET)
    form = QuickAddForm(request.POST)
    if not form.is_valid():
        return _refuse_quick_add(request, filters, "Give the new card a title.")
    title = form.cleaned_data["title"]
    category = None
    if filters.values["category"]:
        category = Category.objects.filter(slug=filters.values["category"]).first()
    category = category or guess_category(title)
    if category is None:  # an admin deleted every category (possible while no card has one)
        return _refuse_quick_add(request, filters, "The board has no categories yet.")
    unit = None
    if filters.values["unit"]:
        unit = Unit.objects.filter(pk=filters.values["unit"]).first()
    card = create_improvement(
        title=title,
        category=category,
        user=request.user,
        column=column,
        unit=unit,
        assignee=request.user if filters.values["mine"] else None,
    )
    announcement = f"Added “{card.title}” to {column.name}."
    if not request.htmx:
        messages.success(request, announcement)
        return redirect(reverse("board:board") + filters.querystring() + f"#card-{card.pk}")
    columns = _fill_changed_columns(request, filters, [column])
    response = _changed_columns_response(request, filters, columns, announcement)
    return trigger_client_event(response, "cardAdded", {"card": card.pk}, after="settle")
