"""Views of one card: its page (history, comments, links), edits, comments, archive and drop."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from retros.http import HtmxHttpRequest

from ..forms.cards import CommentForm, DropForm, ImprovementForm
from ..models import Improvement
from ..permissions import can_edit_board, can_edit_board_expression
from ..reporting.panels import card_effect_context


def get_card_for_editor(request: HtmxHttpRequest, pk: int) -> Improvement:
    """The card with its column, and in the same query whether the user may change it."""
    cards = Improvement.objects.select_related("column").annotate(
        editable=can_edit_board_expression(request.user)
    )
    card = get_object_or_404(cards, pk=pk)
    # django-stubs loses the annotated attribute's name on the annotated model type.
    if not card.editable:  # type: ignore[attr-defined]
        raise PermissionDenied("Only members of a unit may change the board.")
    return card


def _detail_context(improvement: Improvement) -> dict:
    return {
        "improvement": improvement,
        "links": improvement.finding_links.select_related(
            "finding__retro__duty_week__unit", "finding__author"
        ),
        "events": improvement.events.select_related("actor", "from_column", "to_column"),
        "comments": improvement.comments.select_related("author"),
    }


def full_detail_context(request: HtmxHttpRequest, pk: int, **forms: Any) -> dict[str, Any]:
    improvement = get_object_or_404(
        Improvement.objects.select_related(
            "category", "column", "unit", "assignee", "target_step", "created_by"
        ).with_recurrence(),
        pk=pk,
    )
    return _detail_context(improvement) | {
        "can_edit": can_edit_board(request.user),
        "edit_form": forms.get("edit_form"),
        "comment_form": forms.get("comment_form") or CommentForm(),
        "drop_form": forms.get("drop_form") or DropForm(),
        "editing": "edit_form" in forms,
        **card_effect_context(request.user, improvement),
    }


def _render_detail(
    request: HtmxHttpRequest, improvement: Improvement, **forms: Any
) -> HttpResponse:
    context = full_detail_context(request, improvement.pk, **forms)
    if request.htmx and request.htmx.target in ("card-dialog-body", "card-detail"):
        current = request.htmx.current_url_abs_path or ""
        context["in_dialog"] = current.startswith(reverse("board:board"))
        return render(request, "improvements/improvement_detail.html#detail", context)
    return render(request, "improvements/improvement_detail.html", context)


@require_GET
def improvement_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A card's detail: its own page, or a fragment htmx shows in a dialog over the board."""
    improvement = get_object_or_404(Improvement, pk=pk)
    return _render_detail(request, improvement)


def _after_change(request: HtmxHttpRequest, improvement: Improvement, message: str) -> HttpResponse:
    if request.htmx:
        response = _render_detail(request, improvement)
        return trigger_client_event(response, "cardChanged", {"message": message})
    messages.success(request, message)
    return redirect(improvement)


@require_http_methods(["GET", "POST"])
def improvement_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Edit a card in place.

    GET gives the form, which the card's Edit fetches when opened (its selects of every
    person, unit and step were half the time of showing a card): the form alone for htmx,
    else the card's page with the form open.
    """
    improvement = get_card_for_editor(request, pk)
    if request.method == "GET":
        form = ImprovementForm(instance=improvement, user=request.user)
        if request.htmx:
            context = {"improvement": improvement, "edit_form": form}
            return render(request, "improvements/improvement_detail.html#edit-form", context)
        return _render_detail(request, improvement, edit_form=form)
    form = ImprovementForm(request.POST, instance=improvement, user=request.user)
    if not form.is_valid():
        return _render_detail(request, improvement, edit_form=form)
    with transaction.atomic():
        improvement.edit(form.changes(), actor=request.user)
    return _after_change(request, improvement, f"Saved “{improvement.title}”.")


@require_POST
def improvement_comment(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    improvement = get_card_for_editor(request, pk)
    form = CommentForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, improvement, comment_form=form)
    improvement.comment(form.cleaned_data["body"], author=request.user)
    return _after_change(request, improvement, "Comment added.")


@require_POST
def improvement_archive(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Archive (or, with action=unarchive, bring back) a card."""
    improvement = get_card_for_editor(request, pk)
    if request.POST.get("action") == "unarchive":
        improvement.unarchive(actor=request.user)
        return _after_change(request, improvement, f"“{improvement.title}” is back on the board.")
    improvement.archive(actor=request.user)
    return _after_change(request, improvement, f"Archived “{improvement.title}”.")


@require_POST
def improvement_drop(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    improvement = get_card_for_editor(request, pk)
    form = DropForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, improvement, drop_form=form)
    improvement.drop(form.cleaned_data["reason"], actor=request.user)
    return _after_change(request, improvement, f"Dropped “{improvement.title}”.")
