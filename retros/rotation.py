"""The duty rotation: which product unit, QA shadow and platform member take which week."""

import datetime
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from .models import DutyWeek, Unit
from .weeks import monday_of

MAX_WEEKS = 52


class RotationError(ValueError):
    """A rotation change that cannot be made; the message says why."""


def people_of(kind: str) -> QuerySet[User]:
    """Active users in an active unit of this kind, in a stable round-robin order."""
    return (
        get_user_model()
        .objects.filter(units__kind=kind, units__is_active=True, is_active=True)
        .distinct()
        .order_by("username")
    )


def _next_after[T](items: list[T], last: T | None, key: Callable[[T], tuple[str, int]]) -> T | None:
    """The item after `last` in `items`, wrapping round; `last` may have left the list."""
    if not items:
        return None
    if last is None:
        return items[0]
    later = [item for item in items if key(item) > key(last)]
    return later[0] if later else items[0]


def generate(count: int, start: datetime.date | None = None) -> list[DutyWeek]:
    """Plan the weeks from `start` (this week by default) that have no duty week yet.

    Each new week takes the next active product unit, QA person and platform member after
    whoever had the week before it, so the round-robin carries on over edits, swaps and
    deactivated units. Weeks already planned are left as they are. Returns the new weeks.
    """
    if not 1 <= count <= MAX_WEEKS:
        raise RotationError(f"Plan between 1 and {MAX_WEEKS} weeks at a time.")
    first = monday_of(start or timezone.localdate())
    units = list(Unit.objects.filter(kind=Unit.Kind.PRODUCT, is_active=True))
    if not units:
        raise RotationError("There is no active product unit to put on duty.")
    units.sort(key=_unit_key)
    qa_people = list(people_of(Unit.Kind.QA))
    platform_people = list(people_of(Unit.Kind.PLATFORM))
    mondays = [first + datetime.timedelta(weeks=n) for n in range(count)]

    existing = {
        week.week_start: week
        for week in DutyWeek.objects.select_related("unit", "qa_person", "platform_person").filter(
            week_start__gte=first, week_start__lte=mondays[-1]
        )
    }
    previous = (
        DutyWeek.objects.select_related("unit", "qa_person", "platform_person")
        .filter(week_start__lt=first)
        .order_by("-week_start")
        .first()
    )
    last_unit = previous.unit if previous else None
    last_qa = previous.qa_person if previous else None
    last_platform = previous.platform_person if previous else None

    created = []
    for monday in mondays:
        week = existing.get(monday)
        if week is None:
            week = DutyWeek(
                week_start=monday,
                unit=_next_after(units, last_unit, _unit_key),
                qa_person=_next_after(qa_people, last_qa, _person_key),
                platform_person=_next_after(platform_people, last_platform, _person_key),
            )
            created.append(week)
        last_unit = week.unit
        last_qa = week.qa_person or last_qa
        last_platform = week.platform_person or last_platform
    try:
        with transaction.atomic():
            DutyWeek.objects.bulk_create(created)
            DutyWeek.objects.filter(pk__in=[week.pk for week in created]).link_deployments()
    except IntegrityError as error:
        raise RotationError(
            "Someone planned some of these weeks at the same moment; look again and retry."
        ) from error
    return created


def _unit_key(unit: Unit) -> tuple[str, int]:
    return (unit.name.lower(), unit.pk)


def _person_key(person: User) -> tuple[str, int]:
    return (person.get_username().lower(), person.pk)


@transaction.atomic
def swap(first: DutyWeek, second: DutyWeek) -> None:
    """Exchange the units on duty in two weeks (their QA and platform people stay)."""
    weeks = list(
        DutyWeek.objects.select_for_update().filter(pk__in=[first.pk, second.pk]).order_by("pk")
    )
    if len(weeks) != 2:
        raise RotationError("Choose two different weeks to swap.")
    if any(hasattr(week, "retro") for week in weeks):
        raise RotationError("A week whose retro has started keeps its unit.")
    one, other = weeks
    one.unit_id, other.unit_id = other.unit_id, one.unit_id
    one.save(update_fields=["unit"])  # each save re-links the week's deployments
    other.save(update_fields=["unit"])


@transaction.atomic
def deactivate(unit: Unit) -> int:
    """Take a unit out of the rotation and give its planned future weeks to the next units.

    Returns how many future weeks were re-planned.
    """
    unit.is_active = False
    unit.save(update_fields=["is_active"])
    if unit.kind != Unit.Kind.PRODUCT:
        return 0
    next_monday = monday_of(timezone.localdate()) + datetime.timedelta(weeks=1)
    freed = list(
        DutyWeek.objects.filter(unit=unit, week_start__gte=next_monday, retro__isnull=True)
        .order_by("week_start")
        .values_list("week_start", flat=True)
    )
    if not freed:
        return 0
    DutyWeek.objects.filter(unit=unit, week_start__in=freed).delete()
    if not Unit.objects.filter(kind=Unit.Kind.PRODUCT, is_active=True).exists():
        return 0
    span = (freed[-1] - freed[0]).days // 7 + 1
    generate(span, start=freed[0])
    return len(freed)
