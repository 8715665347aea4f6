"""Views that offer, after an improvement is done, to change the mode of the process step it
targeted, and list the finished improvements whose step is still manual (/process/pending/)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from retros.http import HtmxHttpRequest

from ..models import Improvement
from ..permissions import can_change_target_step
from ..process_link import (
    OFFERED_MODES,
    done_improvements_with_manual_steps,
    offers_step_change,
)


@require_safe
def pending_step_changes(request: HtmxHttpRequest) -> HttpResponse:
    """Done improvements whose target step is still manual, each with its one-click change."""
    return render(
        request,
        "improvements/process_link.html",
        {
            "improvements": done_improvements_with_manual_steps(),
            "can_edit_process": can_change_target_step(request.user),
            "modes": OFFERED_MODES,
        },
    )


@require_safe
def step_offer(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The offer for one card, as a fragment the card detail can load or include."""
    improvement = get_object_or_404(
        Improvement.objects.select_related("target_step", "column"), pk=pk
    )
    return render(
        request,
        "improvements/process_link.html#offer",
        {
            "improvement": improvement,
            "offer": offers_step_change(improvement),
            "can_edit_process": can_change_target_step(request.user),
            "modes": OFFERED_MODES,
        },
    )


@require_POST
def step_change(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    if not can_change_target_step(request.user):
        raise PermissionDenied("Only QA and platform members (or staff) may change the process.")
    improvement = get_object_or_404(
        Improvement.objects.select_related("target_step", "column"), pk=pk
    )
    mode = request.POST.get("mode")
    if improvement.target_step is None:
        return HttpResponse("This improvement targets no process step.", status=400)
    if mode not in OFFERED_MODES:
        return HttpResponse("Choose automated, semi-automatic or dropped.", status=400)
    change = improvement.change_target_step(mode, request.user)
    step = improvement.target_step
    step.refresh_from_db()
    if change:
        messages.success(request, f"“{step.title}” is now {step.get_mode_display().lower()}.")
    if request.htmx:
        return render(
            request,
            "improvements/process_link.html#offer",
            {
                "improvement": improvement,
                "offer": offers_step_change(improvement),
                "can_edit_process": True,
                "modes": OFFERED_MODES,
                "changed": change,
            },
        )
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        return redirect(next_url)
    return redirect("process_link:pending_step_changes")
