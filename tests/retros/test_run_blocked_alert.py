"""Chat hears about a deployment run step blocked longer than RUN_BLOCKED_ALERT_MINUTES."""

import datetime
import io

import pytest
from django.core.management import call_command

from retros import outbox
from retros.management.commands import deliver_outbox
from retros.models import ChatWebhook, Delivery, DeploymentRun, OutboxMessage
from tests.factories import DutyWeekFactory, UnitFactory
from tests.retros.run_helpers import at, make_process, start_run


@pytest.fixture(autouse=True)
def alert_settings(settings):
    settings.SITE_URL = "https://wallbreaker.example"
    settings.RUN_BLOCKED_ALERT_MINUTES = 20


@pytest.fixture
def process(db):
    return make_process("manual", "automated")


@pytest.fixture
def week(unit):
    return DutyWeekFactory(unit=unit, week_start=datetime.date(2026, 3, 2))


@pytest.fixture
def channel(unit):
    return ChatWebhook.objects.create(url="https://chat.example/hook", kind="slack", unit=unit)


@pytest.fixture
def blocked_run(process, week, owner):
    """A run whose first step is blocked at 10:05."""
    run = start_run(owner, at(10), version="v1.2")
    run.step_action(run.steps.first(), "start", owner, at=at(10, 0))
    run.step_action(run.steps.first(), "block", owner, text="Approval missing", at=at(10, 5))
    return run


def alerts():
    return list(OutboxMessage.objects.filter(topic="run.blocked").order_by("created_at", "pk"))


def test_a_step_blocked_past_the_threshold_is_told_to_the_units_channel_with_a_link(
    blocked_run, channel, unit
):
    assert outbox.alert_blocked_runs(now=at(10, 26)) == 1
    [alert] = alerts()
    assert alert.unit_id == unit.pk
    assert alert.link == f"https://wallbreaker.example/runs/{blocked_run.pk}/"
    assert alert.text == (
        f"Deployment run #{blocked_run.pk} (Production v1.2) is blocked at “manual step 1” "
        "for 21 minutes. Cause: Approval missing"
    )
    outbox.fan_out()
    assert Delivery.objects.get().chat_webhook == channel


def test_a_step_blocked_for_less_than_the_threshold_is_not_told(blocked_run, channel):
    assert outbox.alert_blocked_runs(now=at(10, 24, 59)) == 0
    assert alerts() == []


def test_the_threshold_comes_from_the_setting(blocked_run, channel, settings):
    settings.RUN_BLOCKED_ALERT_MINUTES = 5
    assert outbox.alert_blocked_runs(now=at(10, 10)) == 1


def test_checking_again_tells_the_channel_once_per_block(blocked_run, channel):
    outbox.alert_blocked_runs(now=at(10, 30))
    outbox.alert_blocked_runs(now=at(10, 31))
    outbox.alert_blocked_runs(now=at(11, 30))
    assert len(alerts()) == 1


def test_the_same_step_blocked_again_after_an_unblock_is_told_again(blocked_run, channel, owner):
    step = blocked_run.steps.first()
    outbox.alert_blocked_runs(now=at(10, 30))
    blocked_run.step_action(step, "unblock", owner, at=at(10, 40))
    assert outbox.alert_blocked_runs(now=at(11, 0)) == 0
    blocked_run.step_action(step, "block", owner, text="Runner offline", at=at(11, 0))
    outbox.alert_blocked_runs(now=at(11, 21))
    assert [a.text.rsplit("Cause: ", 1)[1] for a in alerts()] == [
        "Approval missing",
        "Runner offline",
    ]


def test_an_aborted_run_is_not_told(blocked_run, channel, owner):
    blocked_run.abort(owner, "Wrong version", at=at(10, 10))
    assert outbox.alert_blocked_runs(now=at(11, 0)) == 0


def test_a_finished_run_is_not_told(blocked_run, channel, owner):
    blocked_run.finish(owner, "failure", at=at(10, 10))
    assert outbox.alert_blocked_runs(now=at(11, 0)) == 0


def test_a_run_ended_with_its_block_still_open_is_not_told(blocked_run, channel):
    """The data model allows an open interval on an ended run; only running runs alert."""
    DeploymentRun.objects.filter(pk=blocked_run.pk).update(
        state="aborted", abort_reason="Closed in the admin", finished_at=at(10, 10)
    )
    assert outbox.alert_blocked_runs(now=at(11, 0)) == 0


def test_nothing_is_stored_when_no_chat_channel_is_active(blocked_run, channel):
    ChatWebhook.objects.update(is_active=False)
    assert outbox.alert_blocked_runs(now=at(11, 0)) == 0
    assert alerts() == []


def test_a_run_without_a_duty_week_goes_to_organisation_wide_channels(process, owner):
    run = start_run(owner, at(10))
    run.step_action(run.steps.first(), "block", owner, text="Freeze", at=at(10, 0))
    ChatWebhook.objects.create(url="https://chat.example/unit", unit=UnitFactory())
    everyone = ChatWebhook.objects.create(url="https://chat.example/all", kind="slack")
    outbox.alert_blocked_runs(now=at(10, 30))
    [alert] = alerts()
    assert alert.unit_id is None
    outbox.fan_out()
    assert Delivery.objects.get().chat_webhook == everyone


def test_the_worker_once_looks_for_blocked_runs(blocked_run, channel, settings):
    settings.RUN_BLOCKED_ALERT_MINUTES = 1  # the block started on 2026-03-02, long ago
    settings.OUTBOX_ALLOW_INTERNAL_URLS = False  # so the loopback post is refused, not sent
    ChatWebhook.objects.update(url="http://127.0.0.1:9/hook")
    call_command("deliver_outbox", "--once", stdout=io.StringIO())
    [alert] = alerts()
    assert alert.fanned_out_at is not None
    assert "internal address" in Delivery.objects.get().last_error


class RoundOver(BaseException):
    """Ends the worker's endless loop after its first round (the loop survives Exception)."""


def test_the_worker_loop_looks_for_blocked_runs_before_its_first_round(
    blocked_run, channel, settings, monkeypatch
):
    settings.RUN_BLOCKED_ALERT_MINUTES = 1

    def one_round(*args, **kwargs):
        raise RoundOver

    monkeypatch.setattr(outbox, "drain", one_round)
    # It would close the test's connection: in the test's transaction autocommit is off.
    monkeypatch.setattr(deliver_outbox, "close_old_connections", lambda: None)
    with pytest.raises(RoundOver):
        call_command("deliver_outbox", "--interval", "0", stdout=io.StringIO())
    assert len(alerts()) == 1
