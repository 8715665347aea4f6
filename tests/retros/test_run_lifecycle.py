"""Restart, abort and finish of a run, the Deployment it writes, and a CI post joining it."""

import datetime

import pytest
from django.test import Client

from retros.models import ApiToken, Deployment, DeploymentRun, RunEvent, RunRefused, RunStep
from tests.factories import DutyWeekFactory
from tests.retros.run_helpers import at, do_step, make_process, start_run


@pytest.fixture
def duty_week(unit):
    """The duty week of Monday 2 March 2026, when these runs happen."""
    return DutyWeekFactory(unit=unit, week_start=datetime.date(2026, 3, 2))


@pytest.fixture
def run(owner, duty_week):
    make_process("manual", "automated", "manual", "semi")
    return start_run(owner, at(10), version="v7", pipeline_id="pipeline-4711")


def walk(run, user, upto: int, minute: int = 0, hour: int = 10):
    """Start and finish the first `upto` steps, one minute each from <hour>:<minute>."""
    for step in run.steps.filter(position__lte=upto):
        if step.state == RunStep.State.TODO:
            do_step(run, step, user, at(hour, minute), at(hour, minute + 1))
            minute += 1
    return minute


def test_restart_from_an_earlier_step_resets_it_and_every_later_step(run, owner, teammate):
    walk(run, owner, upto=3)
    third = run.steps.get(position=3)
    fourth = run.steps.get(position=4)
    run.step_action(fourth, "start", owner, at=at(10, 10))
    run.step_action(fourth, "block", owner, text="Smoke test red", at=at(10, 12))
    second = run.steps.get(position=2)
    run.restart_from(second, teammate, reason="Fix merged", at=at(10, 30))

    states = dict(run.steps.values_list("position", "state"))
    assert states == {1: "done", 2: "todo", 3: "todo", 4: "todo"}
    assert run.restarts == 1
    fourth.refresh_from_db()
    assert (fourth.restarts_caused, fourth.block_cause, fourth.blocked_seconds) == (1, "", 18 * 60)
    third.refresh_from_db()
    assert third.hands_on_seconds == 60, "time spent before the restart still counts"
    event = run.events.get(kind=RunEvent.Kind.RESTARTED)
    assert (event.step, event.actor, event.text) == (second, teammate, "Fix merged")
    assert not run.steps.filter(intervals__ended_at__isnull=True).exists()


def test_the_steps_after_a_restart_can_be_done_again_and_the_restart_reaches_the_deployment(
    run, owner
):
    walk(run, owner, upto=4)
    run.restart_from(run.steps.get(position=3), owner, at=at(10, 20))
    walk(run, owner, upto=4, minute=21)
    deployment = run.finish(owner, at=at(10, 30))
    assert deployment.restarts == 1
    assert deployment.manual_steps_done == 3


def test_a_restart_from_a_step_nothing_has_reached_is_refused(run, owner):
    walk(run, owner, upto=1)
    with pytest.raises(RunRefused, match="Nothing to restart"):
        run.restart_from(run.steps.get(position=3), owner, at=at(10, 5))
    assert run.restarts == 0


def test_abort_needs_a_reason_and_ends_the_run_as_an_aborted_deployment(run, owner):
    walk(run, owner, upto=1)
    with pytest.raises(RunRefused, match="Say why"):
        run.abort(owner, "  ", at=at(10, 5))
    deployment = run.abort(owner, "Wrong artefact", at=at(10, 5))
    run.refresh_from_db()
    assert (run.state, run.abort_reason, run.finished_at) == (
        "aborted",
        "Wrong artefact",
        at(10, 5),
    )
    assert deployment.result == Deployment.Result.ABORTED
    with pytest.raises(RunRefused, match="already aborted"):
        run.abort(owner, "again", at=at(10, 6))


def test_a_success_needs_every_step_done_or_skipped(run, owner):
    walk(run, owner, upto=3)
    with pytest.raises(RunRefused, match="1 step not done or skipped yet"):
        run.finish(owner, at=at(10, 10))
    run.step_action(run.steps.get(position=4), "skip", owner, text="Covered", at=at(10, 11))
    deployment = run.finish(owner, at=at(10, 12))
    assert deployment.result == "success"


def test_a_finished_run_writes_its_deployment_with_the_measured_figures(run, owner, duty_week):
    walk(run, owner, upto=1)
    automated = run.steps.get(position=2)
    run.step_action(automated, "start", owner, at=at(10, 1))
    run.step_action(automated, "block", owner, text="Runner offline", at=at(10, 2))
    run.step_action(automated, "unblock", owner, at=at(10, 12))
    run.step_action(automated, "done", owner, at=at(10, 20))
    run.step_action(run.steps.get(position=3), "skip", owner, text="Not needed", at=at(10, 21))
    walk(run, owner, upto=4, minute=21)
    deployment = run.finish(owner, at=at(10, 25))

    assert run.deployment == deployment
    assert deployment.external_id == "pipeline-4711"
    assert (deployment.started_at, deployment.finished_at) == (at(10), at(10, 25))
    assert deployment.elapsed_minutes == 25
    assert deployment.hands_on_minutes == 2
    assert deployment.blocked_minutes == 10
    assert deployment.blocked_cause == "Runner offline"
    assert deployment.manual_steps_done == 2
    assert deployment.trigger == Deployment.Trigger.MANUAL
    assert (deployment.version, deployment.deployer) == ("v7", owner)
    assert deployment.shadow == duty_week.qa_person
    assert deployment.duty_week == duty_week


def test_a_run_of_automated_steps_only_is_a_one_button_deployment(owner):
    make_process("automated")
    run = start_run(owner, at(10))
    walk(run, owner, upto=1)
    deployment = run.finish(owner, at=at(10, 5))
    assert deployment.trigger == Deployment.Trigger.ONE_BUTTON
    assert deployment.external_id is None


@pytest.fixture
def ci(db):
    _, key = ApiToken.issue("CI")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def ci_post(ci, pipeline_id="pipeline-4711"):
    return ci.post(
        "/api/deployments",
        {
            "id": pipeline_id,
            "result": "SUCCESS",
            "environment": "PRODUCTION",
            "startedDate": "2026-03-02T10:00:30+00:00",
            "finishedDate": "2026-03-02T10:24:00+00:00",
            "commitSha": "abc123",
        },
        content_type="application/json",
    )


def test_a_ci_post_after_the_run_joins_its_deployment(run, owner, ci):
    walk(run, owner, upto=4)
    deployment = run.finish(owner, at=at(10, 25))
    response = ci_post(ci)
    assert response.status_code == 200, response.content
    assert Deployment.objects.count() == 1
    deployment.refresh_from_db()
    assert deployment.hands_on_minutes == 3, "the measured figures stay"
    assert (deployment.started_at, deployment.finished_at) == (at(10), at(10, 25))
    assert deployment.version == "v7" and deployment.result == "success"


def test_a_ci_post_during_the_run_is_joined_when_the_run_finishes(run, owner, ci):
    assert ci_post(ci).status_code == 201
    walk(run, owner, upto=4)
    deployment = run.finish(owner, at=at(10, 25))
    assert Deployment.objects.count() == 1
    assert deployment.external_id == "pipeline-4711"
    assert (deployment.hands_on_minutes, deployment.manual_steps_done) == (3, 3)
    assert deployment.trigger == Deployment.Trigger.MANUAL


def test_a_ci_post_for_another_pipeline_is_its_own_deployment(run, owner, ci):
    walk(run, owner, upto=4)
    run.finish(owner, at=at(10, 25))
    assert ci_post(ci, "pipeline-9").status_code == 201
    assert Deployment.objects.count() == 2


def test_a_pipeline_run_again_after_an_abort_gives_its_deployment_to_the_new_run(run, owner):
    first = run.abort(owner, "Wrong artefact", at=at(10, 5))
    again = start_run(owner, at(11), pipeline_id="pipeline-4711")
    walk(again, owner, upto=4, minute=1, hour=11)
    deployment = again.finish(owner, at=at(11, 30))
    assert deployment.pk == first.pk
    assert Deployment.objects.count() == 1
    run.refresh_from_db()
    assert run.deployment is None and again.deployment == deployment
    assert deployment.result == "success"


def test_a_second_run_for_a_running_pipeline_is_refused_at_the_start(client, owner, run):
    DutyWeekFactory(unit=run.duty_week.unit)  # this week's, so the owner may start runs
    client.force_login(owner)
    response = client.post(
        "/runs/start/", {"environment": "production", "pipeline_id": "pipeline-4711"}
    )
    assert response.status_code == 400
    assert f"Run #{run.pk} is already running for this pipeline" in response.content.decode()
    assert list(DeploymentRun.objects.values_list("pk", flat=True)) == [run.pk]
