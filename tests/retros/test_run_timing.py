"""Time accounting of a run: hands-on, waiting and blocked time measured from the presses."""

import datetime
import zoneinfo

import pytest
from django.utils import timezone

from retros.models import RunStep
from tests.factories import DutyWeekFactory
from tests.retros.run_helpers import at, make_process, start_run


@pytest.fixture
def process(db):
    return make_process("manual", "automated", "semi")


def test_manual_time_is_hands_on_and_automated_time_is_waiting(process, owner):
    run = start_run(owner, at(10))
    manual, automated, semi = run.steps.all()
    run.step_action(manual, "start", owner, at=at(10, 0, 30))
    run.step_action(manual, "done", owner, at=at(10, 12, 30))
    run.step_action(automated, "start", owner, at=at(10, 13))
    run.step_action(automated, "done", owner, at=at(10, 33))
    run.step_action(semi, "start", owner, at=at(10, 34))
    run.step_action(semi, "done", owner, at=at(10, 39, 15))
    assert run.totals() == {
        "hands_on": 12 * 60 + 5 * 60 + 15,
        "waiting": 20 * 60,
        "blocked": 0,
        "manual_done": 2,
    }
    deployment = run.finish(owner, at=at(10, 40))
    assert (deployment.elapsed_minutes, deployment.hands_on_minutes) == (40, 17)
    assert (deployment.blocked_minutes, deployment.manual_steps_done) == (0, 2)


def test_blocked_time_is_neither_hands_on_nor_waiting(process, owner):
    run = start_run(owner, at(10))
    manual = run.steps.first()
    run.step_action(manual, "start", owner, at=at(10, 0))
    run.step_action(manual, "block", owner, text="Approval missing", at=at(10, 5))
    run.step_action(manual, "unblock", owner, at=at(10, 50))
    run.step_action(manual, "done", owner, at=at(10, 55))
    manual.refresh_from_db()
    assert (manual.hands_on_seconds, manual.blocked_seconds, manual.waiting_seconds) == (
        600,
        2700,
        0,
    )
    assert manual.blocks == 1


def test_a_step_blocked_before_it_started_counts_only_blocked_time(process, owner):
    run = start_run(owner, at(10))
    automated = run.steps.all()[1]
    run.step_action(automated, "block", owner, text="Runner offline", at=at(10, 0))
    run.step_action(automated, "unblock", owner, at=at(10, 30))
    run.step_action(automated, "done", owner, at=at(10, 40))
    automated.refresh_from_db()
    assert (automated.blocked_seconds, automated.waiting_seconds) == (1800, 600)
    assert automated.started_at == at(10, 0)


def test_time_still_running_when_the_run_ends_is_counted_up_to_the_end(process, owner):
    run = start_run(owner, at(10))
    manual = run.steps.first()
    run.step_action(manual, "start", owner, at=at(10, 0))
    deployment = run.finish(owner, "failure", at=at(10, 25))
    manual.refresh_from_db()
    assert manual.hands_on_seconds == 25 * 60
    assert manual.intervals.filter(ended_at__isnull=True).count() == 0
    assert (deployment.hands_on_minutes, deployment.result) == (25, "failure")


def test_a_run_across_midnight_measures_the_real_minutes(process, owner):
    sunday_late = datetime.datetime(2026, 3, 8, 23, 50, tzinfo=datetime.UTC)
    run = start_run(owner, sunday_late)
    manual = run.steps.first()
    run.step_action(manual, "start", owner, at=sunday_late)
    run.step_action(manual, "done", owner, at=sunday_late + datetime.timedelta(minutes=30))
    deployment = run.finish(owner, "failure", at=sunday_late + datetime.timedelta(minutes=31))
    manual.refresh_from_db()
    assert manual.hands_on_seconds == 30 * 60
    assert deployment.elapsed_minutes == 31
    assert deployment.started_at.date() == datetime.date(2026, 3, 8)


def test_a_run_across_the_spring_dst_change_measures_the_real_minutes(process, owner, settings):
    """In Berlin 02:00 on 29 March 2026 becomes 03:00: 01:30 to 03:30 local is one hour."""
    settings.TIME_ZONE = "Europe/Berlin"
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    week = DutyWeekFactory(week_start=datetime.date(2026, 3, 23))
    with timezone.override(berlin):
        begin = datetime.datetime(2026, 3, 29, 1, 30, tzinfo=berlin)
        end = datetime.datetime(2026, 3, 29, 3, 30, tzinfo=berlin)
        run = start_run(owner, begin)
        manual = run.steps.first()
        run.step_action(manual, "start", owner, at=begin)
        run.step_action(manual, "done", owner, at=end)
        deployment = run.finish(owner, "failure", at=end)
    manual.refresh_from_db()
    assert manual.hands_on_seconds == 3600
    assert deployment.elapsed_minutes == 60
    assert run.duty_week == week


def test_a_run_across_the_autumn_dst_change_measures_the_real_minutes(process, owner, settings):
    """In Berlin 03:00 on 25 October 2026 goes back to 02:00: 01:30 to 03:30 is three hours."""
    settings.TIME_ZONE = "Europe/Berlin"
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    with timezone.override(berlin):
        begin = datetime.datetime(2026, 10, 25, 1, 30, tzinfo=berlin)
        end = datetime.datetime(2026, 10, 25, 3, 30, tzinfo=berlin)
        run = start_run(owner, begin)
        automated = run.steps.all()[1]
        run.step_action(automated, "start", owner, at=begin)
        run.step_action(automated, "done", owner, at=end)
    automated.refresh_from_db()
    assert automated.waiting_seconds == 3 * 3600


def test_the_stored_intervals_add_up_to_the_step_totals(process, owner):
    run = start_run(owner, at(10))
    manual = run.steps.first()
    for minute, (action, text) in enumerate(
        [
            ("start", ""),
            ("block", "x"),
            ("unblock", ""),
            ("block", "y"),
            ("unblock", ""),
            ("done", ""),
        ]
    ):
        run.step_action(manual, action, owner, text=text, at=at(10, minute * 7))
    manual = RunStep.objects.get(pk=manual.pk)
    working = sum(i.seconds for i in manual.intervals.all() if i.kind == "working")
    blocked = sum(i.seconds for i in manual.intervals.all() if i.kind == "blocked")
    assert (manual.hands_on_seconds, manual.blocked_seconds) == (working, blocked) == (1260, 840)
    assert manual.blocks == 2


def test_a_deployment_logged_in_local_time_across_dst_has_its_real_elapsed_minutes(db, settings):
    """Python subtracts two times of the same zone by the wall clock; the log must not."""
    from retros.models import Deployment

    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    deployment = Deployment.objects.create(
        started_at=datetime.datetime(2026, 3, 29, 1, 30, tzinfo=berlin),
        finished_at=datetime.datetime(2026, 3, 29, 3, 30, tzinfo=berlin),
    )
    assert deployment.elapsed_minutes == 60
