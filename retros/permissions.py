"""Who may do what in the retros app: each rule once, used by views and templates alike."""

from .models import DeploymentRun, DutyWeek, ProcessStep


def can_start_run(user, week: DutyWeek | None) -> bool:
    """The people on duty this week (the unit, its QA shadow, its platform member) and staff."""
    if user.is_staff:
        return True
    return week is not None and week.involves(user)


def can_act_on_run(user, run: DeploymentRun) -> bool:
    """The people on duty the run's week, and staff, press its buttons; everyone else watches."""
    if user.is_staff:
        return True
    return run.duty_week is not None and run.duty_week.involves(user)


def can_edit_how_to(user, step: ProcessStep | None) -> bool:
    """QA and platform keep the process current; the unit that owns a step may improve it too."""
    if step is None:
        return False
    if ProcessStep.can_be_edited_by(user):
        return True
    return step.unit_id is not None and user.units.filter(pk=step.unit_id).exists()
