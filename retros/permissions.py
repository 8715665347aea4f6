"""Who may change what in the duty rotation, the deployment log, the process map and retros.

Every rule of the app lives here, named for what it allows, and views and templates ask these
functions (templates through the `retro_permissions` template library). README.md has the same rules
as a table; tests/test_permission_table.py walks it.

One meaning of membership everywhere: a person belongs to the units they are a member of that
are *active*. A deactivated unit grants nothing (its members keep only what their other units
give them), so "a member of the platform team" is a member of an active platform unit.
"""

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from .models import DeploymentRun, DutyWeek, Finding, ProcessStep, Retrospective, Unit

# Whoever asks: rules answer anonymous visitors too (with no), so they take either kind.
type AnyUser = User | AnonymousUser

_CACHE = "_wallbreaker_unit_kinds"


def unit_kinds(user: AnyUser) -> dict[int, str]:
    """{unit id: kind} of the active units the user belongs to: one query per request.

    Cached on the user object, as Django caches permissions; a request that changes the
    user's own memberships and asks again sees the old answer.
    """
    if not user.is_authenticated or not user.is_active:
        return {}
    if not hasattr(user, _CACHE):
        setattr(
            user,
            _CACHE,
            dict(Unit.objects.filter(members=user, is_active=True).values_list("pk", "kind")),
        )
    return getattr(user, _CACHE)


def is_unit_member(user: AnyUser) -> bool:
    """A member of any active unit: one of the people who deploy, shadow and run the board."""
    return bool(unit_kinds(user))


def is_platform_member(user: AnyUser) -> bool:
    return Unit.Kind.PLATFORM in unit_kinds(user).values()


def is_member_of(user: AnyUser, unit: Unit | int | None) -> bool:
    """A member of this unit, while it is active."""
    unit_id = unit.pk if isinstance(unit, Unit) else unit
    return unit_id is not None and unit_id in unit_kinds(user)


def can_manage_rotation(user: AnyUser) -> bool:
    """Create, edit and deactivate units, add and remove members, plan, edit and swap weeks."""
    return user.is_staff or is_platform_member(user)


def can_renew_unit_feed(user: AnyUser, unit: Unit) -> bool:
    """See and renew a unit's secret calendar URL: its members, and whoever manages units."""
    if can_manage_rotation(user):
        return True
    return user.is_authenticated and unit.members.filter(pk=user.pk).exists()


def can_log_deployments(user: AnyUser) -> bool:
    """Log a deployment by hand and correct one."""
    return user.is_staff or is_unit_member(user)


def can_edit_process(user: AnyUser) -> bool:
    """Add, edit, reorder process steps and change their mode: QA and platform keep it current."""
    if user.is_staff:
        return True
    return bool({Unit.Kind.QA, Unit.Kind.PLATFORM} & set(unit_kinds(user).values()))


def is_on_duty(user: AnyUser, week: DutyWeek) -> bool:
    """One of the week's people: a member of the unit on duty, its QA shadow or platform member."""
    if not user.is_authenticated:
        return False
    return user.pk in (week.qa_person_id, week.platform_person_id) or is_member_of(
        user, week.unit_id
    )


def can_start_retro(user: AnyUser, week: DutyWeek) -> bool:
    return user.is_staff or is_on_duty(user, week)


def can_edit_retro(user: AnyUser, retro: Retrospective) -> bool:
    """Before submit the week's people write the retro (findings, ratings, summary, submit);
    after submit only its facilitator corrects it. Staff always."""
    if user.is_staff:
        return True
    if retro.is_submitted:
        return user.is_authenticated and user.pk == retro.facilitator_id
    return is_on_duty(user, retro.duty_week)


def can_triage(user: AnyUser, retro: Retrospective) -> bool:
    """Turn a retro's pains and ideas into improvements: the week's people, the platform team
    (which runs the board) and staff."""
    return user.is_staff or is_on_duty(user, retro.duty_week) or is_platform_member(user)


def can_start_run(user: AnyUser, week: DutyWeek | None) -> bool:
    """Start a deployment run: the people on duty this week, and staff."""
    if user.is_staff:
        return True
    return week is not None and is_on_duty(user, week)


def can_act_on_run(user: AnyUser, run: DeploymentRun) -> bool:
    """Press a run's buttons (steps, restart, abort, finish, notes): the people on duty the
    run's week, and staff. Everyone else watches."""
    if user.is_staff:
        return True
    return run.duty_week is not None and is_on_duty(user, run.duty_week)


def can_edit_how_to(user: AnyUser, step: ProcessStep | None) -> bool:
    """Improve a step's how-to: whoever keeps the process (QA, platform, staff), and the
    unit that owns the step. During a run, only those who may also act on the run."""
    if step is None:
        return False
    return can_edit_process(user) or is_member_of(user, step.unit_id)


def can_manage_chat(user: AnyUser, unit: Unit | None) -> bool:
    """A unit's chat channels: its members and those who manage units (staff, the platform
    team). The organisation-wide channels (no unit): only those managers."""
    if not user.is_authenticated or not user.is_active:
        return False
    if can_manage_rotation(user):
        return True
    return unit is not None and is_member_of(user, unit)


def chat_units_for(user: AnyUser) -> QuerySet[Unit]:
    """The units whose chat channels `user` may set up."""
    if can_manage_rotation(user):
        return Unit.objects.filter(is_active=True)
    return Unit.objects.filter(is_active=True, pk__in=list(unit_kinds(user)))


# The retro as a meeting (issue 14) ---------------------------------------------------------


def can_facilitate(user: AnyUser, retro: Retrospective) -> bool:
    """Move the meeting on (phases, private writing, the vote budget): the facilitator.

    Staff may step in; a retro without a facilitator is run by whoever may write it.
    """
    if retro.is_submitted or not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    if retro.facilitator_id:
        return user.pk == retro.facilitator_id
    return can_edit_retro(user, retro)


def can_group(user: AnyUser, retro: Retrospective) -> bool:
    """Group findings: the retro's writers, until submit (groups shape what gets triaged)."""
    return not retro.is_submitted and can_edit_retro(user, retro)


def can_vote(user: AnyUser, retro: Retrospective) -> bool:
    """Spend votes: the retro's writers, while the meeting is in its Vote phase."""
    return (
        not retro.is_submitted
        and retro.phase == Retrospective.Phase.VOTE
        and can_edit_retro(user, retro)
    )


def can_see_finding(user: AnyUser, retro: Retrospective, finding: Finding) -> bool:
    """During private writing a finding is its author's alone."""
    if not retro.findings_hidden or retro.is_submitted:
        return True
    return finding.author_id == user.pk


def can_remove_finding(user: AnyUser, retro: Retrospective, finding: Finding) -> bool:
    """A triaged finding stays until its triage is undone, or its card would lose it silently."""
    return can_edit_retro(user, retro) and not finding.is_triaged
