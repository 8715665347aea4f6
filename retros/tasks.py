"""Background work for retros: reminding the unit on duty to hold and submit its retro."""

import datetime

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import timezone

from . import outbox
from .models import DutyWeek, Retrospective
from .weeks import monday_of


def reminder_recipients(week: DutyWeek) -> list:
    """The unit's members, its QA shadow and platform member: everyone with an email."""
    people = {user.pk: user for user in week.unit.members.filter(is_active=True)}
    for person in (week.qa_person, week.platform_person):
        if person is not None and person.is_active:
            people[person.pk] = person
    return sorted((p for p in people.values() if p.email), key=lambda p: p.get_username())


def remind(week: DutyWeek) -> int:
    """Email the week's people if its retro is not submitted; returns how many emails went."""
    retro = Retrospective.objects.filter(duty_week=week).first()
    if retro is not None and retro.is_submitted:
        return 0
    outbox.enqueue(outbox.retro_reminder(week, retro))
    site = settings.SITE_URL.rstrip("/")
    link = f"{site}{retro.get_absolute_url()}" if retro else f"{site}/retros/"
    subject = f"Retro for deployment week {week.iso_label} is not submitted yet"
    messages = [
        EmailMessage(
            subject=subject,
            body=render_to_string(
                "retros/reminder_email.txt",
                {"week": week, "retro": retro, "link": link, "person": person},
            ),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[person.email],
        )
        for person in reminder_recipients(week)
    ]
    if not messages:
        return 0
    return mailers.default.send_messages(messages) or 0


@task
def send_retro_reminders(week_start: str | None = None) -> int:
    """Remind the people on duty in the week starting `week_start` (ISO date; default: now).

    Meant to run at the end of the duty week, from cron via `manage.py send_retro_reminders`.
    """
    if week_start:
        monday = monday_of(datetime.date.fromisoformat(week_start))
    else:
        monday = monday_of(timezone.localdate())
    week = (
        DutyWeek.objects.select_related("unit", "qa_person", "platform_person")
        .filter(week_start=monday)
        .first()
    )
    if week is None:
        return 0
    return remind(week)


@task
def send_duty_handover(week_start: str | None = None) -> bool:
    """Tell chat who is on deployment duty in the week of `week_start` (default: this week).

    Meant for Monday morning, from cron via `manage.py send_duty_handover`; a second run in
    the same week tells nobody twice. Returns whether there was a duty week to announce.
    """
    monday = monday_of(
        datetime.date.fromisoformat(week_start) if week_start else timezone.localdate()
    )
    week = (
        DutyWeek.objects.select_related("unit", "qa_person", "platform_person")
        .filter(week_start=monday)
        .first()
    )
    if week is None:
        return False
    outbox.enqueue(outbox.duty_handover(week))
    return True
