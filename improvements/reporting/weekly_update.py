"""The weekly update: the week's retro, what it raised and what moved on the board, to paste."""

import datetime

from django.utils import timezone

from retros.models import Deployment, DutyWeek, Finding, Retrospective
from retros.weeks import monday_of, week_label

from ..models import Column, Event


def weekly_summary(monday: datetime.date) -> dict:
    """Everything the update says about the week starting on `monday`, in a few queries."""
    start = timezone.make_aware(datetime.datetime.combine(monday, datetime.time.min))
    end = start + datetime.timedelta(days=7)
    duty_week = (
        DutyWeek.objects.select_related("unit", "qa_person", "platform_person")
        .filter(week_start=monday)
        .first()
    )
    retro = (
        Retrospective.objects.select_related("facilitator").filter(duty_week=duty_week).first()
        if duty_week
        else None
    )
    findings = (
        list(retro.findings.select_related("link__improvement").order_by("kind", "id"))
        # During private writing nobody but each author sees a finding: not the company either.
        if retro and not (retro.findings_hidden and not retro.is_submitted)
        else []
    )
    for finding in findings:
        finding.one_line = " ".join(finding.text.split())
    by_kind = [
        (label, [finding for finding in findings if finding.kind == kind])
        for kind, label in Finding.Kind.choices
    ]
    deployments = Deployment.objects.filter(started_at__gte=start, started_at__lt=end).stats()

    events = list(
        Event.objects.filter(at__gte=start, at__lt=end)
        .select_related("improvement", "to_column", "from_column", "actor")
        .order_by("at", "id")
    )
    created = {e.improvement_id: e.improvement for e in events if e.kind == Event.Kind.CREATED}
    finished_states = (Column.State.DONE, Column.State.DROPPED)
    done, dropped, started, moved = {}, {}, {}, {}
    for event in events:
        if event.kind != Event.Kind.MOVED or event.to_column is None:
            continue
        card = event.improvement
        if event.to_column.state == Column.State.DONE:
            done[card.pk] = card
        elif event.to_column.state == Column.State.DROPPED:
            dropped[card.pk] = card
        elif event.to_column.state == Column.State.ACTIVE and (
            event.from_column is None or event.from_column.state == Column.State.BACKLOG
        ):
            started[card.pk] = card
        moved[card.pk] = (card, event.to_column)
    # Report where a card ended the week, once, under its most telling heading.
    for pk in list(moved):
        if pk in done or pk in dropped or pk in started:
            del moved[pk]
    comments = sum(1 for event in events if event.kind == Event.Kind.COMMENTED)
    return {
        "monday": monday,
        "label": week_label(monday),
        "previous": week_label(monday - datetime.timedelta(weeks=1)),
        "next": week_label(monday + datetime.timedelta(weeks=1)),
        "duty_week": duty_week,
        "retro": retro,
        "by_kind": by_kind,
        "raised": [f for f in findings if f.needs_triage],
        "deployments": deployments,
        "created": list(created.values()),
        "started": list(started.values()),
        "done": list(done.values()),
        "dropped": [card for card in dropped.values() if card.pk not in done],
        "moved": list(moved.values()),
        "comments": comments,
        "finished_states": finished_states,
        # "past", "current" or "future": a week still to come has held no retro yet.
        "tense": _tense(monday),
    }


def _tense(monday: datetime.date) -> str:
    this_monday = monday_of(timezone.localdate())
    return "past" if monday < this_monday else "current" if monday == this_monday else "future"
