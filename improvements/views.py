"""Views for the improvement board, card detail, triage of retro findings and the dashboard."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .models import Category, Column, Improvement, MoveError


def can_edit_board(user) -> bool:
    """Staff and members of any unit work the board; everyone else reads it."""
    return user.is_staff or user.units.exists()


def _require_board_editor(request: HttpRequest) -> None:
    if not can_edit_board(request.user):
        raise PermissionDenied("Only members of a unit may change the board.")


def _board_cards():
    return (
        Improvement.objects.open()
        .select_related("category", "unit", "assignee", "target_step")
        .with_recurrence()
        .order_by("position")
    )


def _columns_with_cards(columns, cards) -> list[Column]:
    by_column: dict[int, list[Improvement]] = {column.pk: [] for column in columns}
    for card in cards:
        by_column.setdefault(card.column_id, []).append(card)
    for column in columns:
        column.cards = by_column[column.pk]
        column.over_limit = column.wip_limit is not None and len(column.cards) > column.wip_limit
    return columns


def board(request: HttpRequest) -> HttpResponse:
    columns = list(Column.objects.all())
    return render(
        request,
        "improvements/board.html",
        {
            "columns": _columns_with_cards(columns, _board_cards()),
            "all_columns": columns,
            "can_edit": can_edit_board(request.user),
        },
    )


def category_css(request: HttpRequest) -> HttpResponse:
    """Category colours as a stylesheet, so no inline style is needed (CSP)."""
    rules = [
        f".cat-{pk} {{ --category: {colour}; }}"
        for pk, colour in Category.objects.values_list("pk", "colour")
    ]
    response = HttpResponse("\n".join(rules), content_type="text/css")
    response["Cache-Control"] = "private, max-age=60"
    return response


class MoveForm(forms.Form):
    column = forms.ModelChoiceField(queryset=Column.objects.all())
    after = forms.IntegerField(required=False, min_value=1)
    place = forms.ChoiceField(
        choices=[("", "as dragged"), ("top", "top"), ("bottom", "bottom")], required=False
    )


@require_POST
def card_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a card after a named neighbour (or to the top or bottom of a column)."""
    _require_board_editor(request)
    card = get_object_or_404(Improvement, pk=pk)
    form = MoveForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Choose a column to move the card to.")
    column = form.cleaned_data["column"]
    after = None
    if form.cleaned_data["place"] == "bottom":
        after = (
            Improvement.objects.filter(column=column)
            .exclude(pk=card.pk)
            .order_by("-position")
            .first()
        )
    elif form.cleaned_data["after"] and form.cleaned_data["place"] != "top":
        after = Improvement.objects.filter(pk=form.cleaned_data["after"]).first()
        if after is None:
            return HttpResponseBadRequest("The card to land after no longer exists.")
    try:
        changed = card.move_to(column, after=after, actor=request.user)
    except MoveError as error:
        return HttpResponse(str(error), status=409)
    if not request.htmx:
        messages.success(request, f"Moved “{card.title}” to {column.name}.")
        return redirect("board")
    columns = list(Column.objects.filter(pk__in=changed))
    return render(
        request,
        "improvements/board.html#changed-columns",
        {
            "columns": _columns_with_cards(columns, _board_cards().filter(column__in=changed)),
            "all_columns": list(Column.objects.all()),
            "can_edit": True,
            "announcement": f"Moved “{card.title}” to {column.name}.",
        },
    )


def improvement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    improvement = get_object_or_404(
        Improvement.objects.select_related(
            "category", "column", "unit", "assignee", "target_step", "created_by"
        ).with_recurrence(),
        pk=pk,
    )
    return render(
        request,
        "improvements/improvement_detail.html",
        {
            "improvement": improvement,
            "links": improvement.finding_links.select_related(
                "finding__retro__duty_week__unit", "finding__author"
            ),
            "events": improvement.events.select_related("actor", "from_column", "to_column"),
            "comments": improvement.comments.select_related("author"),
        },
    )
