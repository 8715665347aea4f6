"""Helpers for the metrics tests: the four weeks they look at, and history placed on given days."""

import datetime

from django.utils import timezone

from improvements.models import Category, Event, FindingLink
from retros.models import Finding, Retrospective
from tests.factories import (
    DeploymentFactory,
    DutyWeekFactory,
    ImprovementFactory,
    RetrospectiveFactory,
)

START = datetime.date(2025, 3, 3)  # a Monday
END = datetime.date(2025, 3, 30)  # a Sunday: four whole weeks


def at(day: int, hour: int = 12) -> datetime.datetime:
    """Day 1 is START, at noon UTC."""
    moment = datetime.datetime.combine(START, datetime.time(hour)) + datetime.timedelta(
        days=day - 1
    )
    return timezone.make_aware(moment, datetime.UTC)


def done_card(columns, created, started, done, category="automate", **fields):
    """A card in Done, created, started and done on those days (started=None: never started)."""
    return ImprovementFactory(
        column=columns["Done"],
        category=Category.objects.get(slug=category),
        created_at=at(created),
        started_at=at(started) if started else None,
        done_at=at(done),
        **fields,
    )


def move(card, source, target, day):
    """The event of `card` moved from `source` to `target` on `day`, as the metrics read it."""
    Event.objects.create(
        improvement=card, kind=Event.Kind.MOVED, from_column=source, to_column=target, at=at(day)
    )


def create(card, column, day):
    """The event of `card` created in `column` on `day`."""
    Event.objects.create(improvement=card, kind=Event.Kind.CREATED, to_column=column, at=at(day))


def retro_in_week(monday: datetime.date, unit=None, submitted=True):
    """A retro of the duty week starting `monday`, submitted unless said otherwise."""
    week = DutyWeekFactory(week_start=monday, **({"unit": unit} if unit else {}))
    return RetrospectiveFactory(
        duty_week=week,
        status=Retrospective.Status.SUBMITTED if submitted else Retrospective.Status.DRAFT,
    )


def link(finding, improvement):
    """`finding` turned into `improvement`, as triage leaves them."""
    FindingLink.objects.create(finding=finding, improvement=improvement)
    finding.outcome = Finding.Outcome.IMPROVEMENT
    finding.save(update_fields=["outcome"])


def deploy(day, elapsed, hands_on=10, **fields):
    """A deployment started at 09:00 on `day`, taking `elapsed` minutes."""
    started = at(day, hour=9)
    return DeploymentFactory(
        started_at=started,
        finished_at=started + datetime.timedelta(minutes=elapsed),
        hands_on_minutes=hands_on,
        **fields,
    )
