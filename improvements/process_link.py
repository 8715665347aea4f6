"""When an improvement that targets a process step is done, offer to change that step's mode.

The change is recorded twice, on purpose: as a ProcessStepChange (the process map's history,
with the improvement named in its note) and as a STEP_CHANGED event on the card that points
at it, so each side can show the other without `retros` importing `improvements`.
"""

from django.contrib.auth.models import User
from django.db import transaction

from retros.models import ProcessStep, ProcessStepChange

from .models import Column, Event, Improvement, ImprovementQuerySet

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


def done_improvements_with_manual_steps() -> ImprovementQuerySet:
    return (
        Improvement.objects.filter(
            done_at__isnull=False,
            column__state=Column.State.DONE,
            target_step__mode__in=[ProcessStep.Mode.MANUAL, ProcessStep.Mode.SEMI_AUTOMATIC],
        )
        .select_related("target_step", "column", "unit")
        .order_by("-done_at")
    )
