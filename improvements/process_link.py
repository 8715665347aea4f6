"""When an improvement that targets a process step is done, offer to change that step's mode.

The change is recorded twice, on purpose: as a ProcessStepChange (the process map's history,
with the improvement named in its note) and as a STEP_CHANGED event on the card that points
at it, so each side can show the other without `retros` importing `improvements`.
"""

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from retros.http import HtmxHttpRequest
from retros.models import ProcessStep, ProcessStepChange

from .models import Column, Event, Improvement, ImprovementQuerySet
from .permissions import can_change_target_step

# What a finished improvement can turn a manual step into.
OFFERED_MODES = [
    ProcessStep.Mode.AUTOMATED,
    ProcessStep.Mode.SEMI_AUTOMATIC,
    ProcessStep.Mode.DROPPED,
]


def offers_step_change(improvement: Improvement) -> bool:
    """Done, and the step it targets is still (partly) manual."""
    step = improvement.target_step
    return bool(
        step is not None
        and improvement.done_at is not None
        and improvement.column.state == Column.State.DONE
        and step.is_manual
    )


@transaction.atomic
def change_target_step(improvement: Improvement, mode: str, user: User) -> ProcessStepChange | None:
    """Change the mode of the step an improvement targets, and say so on both sides."""
    if improvement.target_step_id is None:
        raise ValueError(f"Improvement #{improvement.pk} targets no process step.")
    step = ProcessStep.objects.select_for_update().get(pk=improvement.target_step_id)
    old_mode = step.mode
    note = f"Improvement #{improvement.pk} done: {improvement.title}"[:300]
    change = step.change_mode(mode, user=user, note=note)
    if change is not None:
        Event.objects.create(
            improvement=improvement,
            kind=Event.Kind.STEP_CHANGED,
            actor=user,
            step_change=change,
            data={"step": step.pk, "from": old_mode, "to": mode},
        )
    return change


def _done_improvements_with_manual_steps() -> ImprovementQuerySet:
    return (
        Improvement.objects.filter(
            done_at__isnull=False,
            column__state=Column.State.DONE,
            target_step__mode__in=[ProcessStep.Mode.MANUAL, ProcessStep.Mode.SEMI_AUTOMATIC],
        )
        .select_related("target_step", "column", "unit")
        .order_by("-done_at")
    )


@require_safe
def pending_step_changes(request: HtmxHttpRequest) -> HttpResponse:
    """Done improvements whose target step is still manual, each with its one-click change."""
    return render(
        request,
        "improvements/process_link.html",
        {
            "improvements": _done_improvements_with_manual_steps(),
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
    change = change_target_step(improvement, mode, request.user)
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
    return redirect("pending_step_changes")
