"""The send_retro_reminders command and task."""

import datetime
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from retros.tasks import send_retro_reminders
from tests.factories import DutyWeekFactory, RetrospectiveFactory, UserFactory


def run(*args) -> str:
    out = StringIO()
    call_command("send_retro_reminders", *args, stdout=out)
    return out.getvalue()


def test_it_emails_the_unit_qa_and_platform_when_no_retro_exists(duty_week):
    output = run()

    recipients = sorted(message.to[0] for message in mail.outbox)
    assert output.strip() == "Sent 4 reminder(s)."
    assert recipients == sorted(
        [
            "owner@example.com",
            "teammate@example.com",
            duty_week.qa_person.email,
            duty_week.platform_person.email,
        ]
    )
    assert duty_week.iso_label in mail.outbox[0].subject
    assert "has not been started" in mail.outbox[0].body


def test_a_draft_retro_is_reminded_with_its_link(duty_week):
    retro = RetrospectiveFactory(duty_week=duty_week)

    run()

    assert "is still a draft" in mail.outbox[0].body
    assert retro.get_absolute_url() in mail.outbox[0].body


def test_a_submitted_retro_sends_nothing(duty_week):
    RetrospectiveFactory(duty_week=duty_week).submit()

    assert run().strip() == "Sent 0 reminder(s)."
    assert mail.outbox == []


def test_people_without_email_or_inactive_are_skipped(duty_week, unit):
    unit.members.add(UserFactory(username="noemail", email=""))
    unit.members.add(UserFactory(username="gone", is_active=False))

    run()

    assert len(mail.outbox) == 4


def test_another_week_can_be_named(duty_week):
    last_week = DutyWeekFactory(week_start=duty_week.week_start - datetime.timedelta(weeks=1))

    run("--week", str(last_week.week_start + datetime.timedelta(days=3)))

    assert {message.to[0] for message in mail.outbox} == {
        last_week.qa_person.email,
        last_week.platform_person.email,
    }


def test_a_week_without_duty_sends_nothing(db):
    assert run("--week", "2020-01-01").strip() == "Sent 0 reminder(s)."


def test_a_bad_date_is_refused():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run("--week", "Friday")


def test_the_task_can_be_enqueued_directly(duty_week):
    result = send_retro_reminders.enqueue(week_start=duty_week.week_start.isoformat())

    assert result.return_value == 4
    assert len(mail.outbox) == 4
