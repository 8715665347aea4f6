"""Views for the improvement board, card detail, triage of retro findings and the dashboard."""

import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncWeek
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from retros.models import Finding, Retrospective

from .models import Category, Column, Improvement, MoveError
from .operations import guess_category, promote_finding, title_from


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


def retro_triage(request: HttpRequest, pk: int) -> HttpResponse:
    retro = get_object_or_404(Retrospective.objects.select_related("duty_week__unit"), pk=pk)
    findings = list(
        retro.findings.filter(kind__in=[Finding.Kind.PAIN, Finding.Kind.IDEA]).select_related(
            "link__improvement"
        )
    )
    for finding in findings:
        finding.suggested_title = title_from(finding.text)
        finding.suggested_category = guess_category(finding.text)
    return render(
        request,
        "improvements/triage.html",
        {
            "retro": retro,
            "findings": findings,
            "categories": Category.objects.all(),
            "can_edit": retro.can_edit(request.user) and can_edit_board(request.user),
        },
    )


class PromoteForm(forms.Form):
    title = forms.CharField(max_length=200)
    category = forms.ModelChoiceField(queryset=Category.objects.all())


@require_POST
def finding_promote(request: HttpRequest, pk: int) -> HttpResponse:
    """Turn a retro finding into a new improvement card in the first column."""
    finding = get_object_or_404(Finding.objects.select_related("retro__duty_week"), pk=pk)
    if not (finding.retro.can_edit(request.user) and can_edit_board(request.user)):
        raise PermissionDenied("Only the retro's people may triage its findings.")
    form = PromoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the improvement a title and a category.")
        return redirect("retro_triage", finding.retro_id)
    with transaction.atomic():
        locked = Finding.objects.select_for_update().get(pk=finding.pk)
        if locked.outcome != Finding.Outcome.PENDING:
            messages.info(request, "That finding was already triaged.")
            return redirect("retro_triage", finding.retro_id)
        improvement = promote_finding(
            locked,
            request.user,
            title=form.cleaned_data["title"],
            category=form.cleaned_data["category"],
            unit=finding.retro.duty_week.unit,
        )
    messages.success(request, f"Created improvement “{improvement.title}”.")
    return redirect("retro_triage", finding.retro_id)


def dashboard(request: HttpRequest) -> HttpResponse:
    open_cards = Improvement.objects.open()
    per_column = Column.objects.annotate(
        count=Count("improvements", filter=Q(improvements__archived_at__isnull=True))
    )
    per_category = Category.objects.annotate(
        count=Count("improvements", filter=Q(improvements__archived_at__isnull=True))
    )
    since = timezone.now() - datetime.timedelta(weeks=12)
    done_per_week = list(
        open_cards.filter(done_at__gte=since, column__state=Column.State.DONE)
        .annotate(week=TruncWeek("done_at"))
        .values("week")
        .annotate(count=Count("id"))
        .order_by("week")
    )
    peak = max([row["count"] for row in done_per_week], default=0)
    return render(
        request,
        "improvements/dashboard.html",
        {
            "per_column": per_column,
            "per_category": per_category,
            "done_per_week": done_per_week,
            "peak": peak,
        },
    )
