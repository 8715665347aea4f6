"""When an improvement that targets a process step is done, offer to change that step's mode.

The change itself is `Improvement.change_target_step`: it writes the card's history too.
"""

from retros.models import MANUAL_MODES, ProcessStep

from .models import Column, Improvement, ImprovementQuerySet

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


def done_improvements_with_manual_steps() -> ImprovementQuerySet:
    return (
        Improvement.objects.filter(
            done_at__isnull=False,
            column__state=Column.State.DONE,
            target_step__mode__in=MANUAL_MODES,
        )
        .select_related("target_step", "column", "unit")
        .order_by("-done_at")
    )
