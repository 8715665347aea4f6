"""Rules of the deployment run's state machine that the mutation run found unpinned."""

import pytest

from retros.models import DeploymentRun, RunEvent, RunRefused, RunStep, RunStepInterval
from tests.retros.run_helpers import at, do_step, make_process, start_run

S = RunStep.State


@pytest.fixture
def run(owner):
    make_process("manual", "automated", "semi")
    return start_run(owner)


def steps_of(run):
    return list(run.steps.order_by("position"))


def test_a_step_blocked_before_it_started_is_stamped_started_at_the_block(run, owner):
    step = steps_of(run)[0]
    run.step_action(step, "block", owner, text="  VPN down  ", at=at(10, 5))
    run.step_action(step, "unblock", owner, at=at(10, 9))
    step.refresh_from_db()
    assert step.started_at == at(10, 5)
    assert step.blocked_seconds == 4 * 60
    assert RunEvent.objects.get(step=step, kind="block").text == "VPN down"


def test_blocking_a_started_step_keeps_when_it_started(run, owner):
    step = steps_of(run)[0]
    run.step_action(step, "start", owner, at=at(10, 1))
    run.step_action(step, "block", owner, text="Waiting for DBA", at=at(10, 7))
    step.refresh_from_db()
    assert (step.started_at, step.blocks, step.block_cause) == (at(10, 1), 1, "Waiting for DBA")
    assert step.finished_at is None
    assert step.hands_on_seconds == 6 * 60


def test_long_reasons_are_cut_to_their_field_lengths(run, owner):
    first, second, _ = steps_of(run)
    run.step_action(first, "block", owner, text="b" * 500, at=at(10, 1))
    run.step_action(second, "skip", owner, text="s" * 500, at=at(10, 2))
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.block_cause == "b" * 200
    assert second.skip_reason == "s" * 300
    assert (second.state, second.finished_at, second.started_at) == (S.SKIPPED, at(10, 2), None)
    assert RunEvent.objects.get(step=second, kind="skip").text == "s" * 300


def test_a_done_step_is_stamped_finished_and_its_time_counted(run, owner):
    first, second, third = steps_of(run)
    for step, minutes in ((first, 3), (second, 5), (third, 7)):
        run.step_action(step, "start", owner, at=at(10))
        run.step_action(step, "done", owner, at=at(10, minutes))
        step.refresh_from_db()
        assert (step.state, step.finished_at) == (S.DONE, at(10, minutes))
    assert (first.hands_on_seconds, first.waiting_seconds) == (180, 0)
    assert (second.hands_on_seconds, second.waiting_seconds) == (0, 300)
    assert (third.hands_on_seconds, third.waiting_seconds) == (420, 0)
    assert first.intervals.get().ended_by == owner


def test_an_action_stamped_before_the_interval_began_counts_zero_seconds(run, owner):
    step = steps_of(run)[0]
    run.step_action(step, "start", owner, at=at(10, 30))
    run.step_action(step, "done", owner, at=at(10, 20))
    step.refresh_from_db()
    interval = step.intervals.get()
    assert interval.ended_at == interval.started_at == at(10, 30)
    assert step.hands_on_seconds == 0


def test_restart_blames_the_furthest_step_under_way(run, owner):
    first, second, third = steps_of(run)
    do_step(run, first, owner, at(10, 1), at(10, 2))
    run.step_action(second, "start", owner, at=at(10, 3))
    run.step_action(second, "block", owner, text="Pipeline red", at=at(10, 4))
    run.restart_from(first, owner, reason="r" * 400, at=at(10, 10))
    blamed = dict(run.steps.values_list("position", "restarts_caused"))
    assert blamed == {1: 0, 2: 1, 3: 0}
    second.refresh_from_db()
    assert (second.state, second.block_cause, second.finished_at) == (S.TODO, "", None)
    assert (second.waiting_seconds, second.blocked_seconds) == (60, 6 * 60)
    assert not second.intervals.filter(ended_at__isnull=True).exists()
    event = RunEvent.objects.get(kind=RunEvent.Kind.RESTARTED)
    assert (event.step, event.actor, event.at, event.text) == (first, owner, at(10, 10), "r" * 300)
    assert run.restarts == 1
    assert DeploymentRun.objects.get(pk=run.pk).restarts == 1


def test_restart_with_nothing_under_way_blames_the_furthest_ended_step(run, owner):
    first, second, third = steps_of(run)
    run.step_action(first, "skip", owner, text="Not needed", at=at(10, 1))
    do_step(run, second, owner, at(10, 2), at(10, 3))
    run.restart_from(first, owner, at=at(10, 5))
    assert dict(run.steps.values_list("position", "restarts_caused")) == {1: 0, 2: 1, 3: 0}
    first.refresh_from_db()
    assert (first.state, first.skip_reason, first.finished_at) == (S.TODO, "", None)


def test_restart_from_a_later_step_leaves_the_earlier_ones_alone(run, owner):
    first, second, third = steps_of(run)
    do_step(run, first, owner, at(10, 1), at(10, 2))
    run.step_action(second, "start", owner, at=at(10, 3))
    run.restart_from(second, owner, at=at(10, 5))
    states = dict(run.steps.values_list("position", "state"))
    assert states == {1: S.DONE, 2: S.TODO, 3: S.TODO}
    run.restart_from(first, owner, at=at(10, 6))
    assert run.restarts == 2


def test_a_restart_of_an_ended_run_is_refused(run, owner):
    first = steps_of(run)[0]
    run.step_action(first, "start", owner, at=at(10, 1))
    run.abort(owner, "Wrong tag", at=at(10, 2))
    with pytest.raises(RunRefused, match="already aborted"):
        run.restart_from(first, owner, at=at(10, 3))


def test_abort_closes_the_open_intervals_and_keeps_the_trimmed_reason(run, owner):
    first, second, third = steps_of(run)
    run.step_action(first, "start", owner, at=at(10, 1))
    run.step_action(second, "block", owner, text="Waiting", at=at(10, 2))
    do_step(run, third, owner, at(10, 3), at(10, 4))
    deployment = run.abort(owner, "  " + "x" * 400 + "  ", at=at(10, 11))
    stored = DeploymentRun.objects.get(pk=run.pk)
    assert (stored.state, stored.abort_reason) == (DeploymentRun.State.ABORTED, "x" * 300)
    assert (stored.finished_at, stored.ended_by) == (at(10, 11), owner)
    assert RunEvent.objects.get(kind=RunEvent.Kind.ABORTED).text == "x" * 300
    totals = dict(run.steps.values_list("position", "hands_on_seconds"))
    assert totals == {1: 600, 2: 0, 3: 60}
    assert run.steps.get(position=2).blocked_seconds == 540
    assert deployment.result == "aborted"


def test_a_blank_abort_reason_is_refused_and_changes_nothing(run, owner):
    with pytest.raises(RunRefused) as refused:
        run.abort(owner, "   ", at=at(10, 1))
    assert refused.value.status == 400
    assert DeploymentRun.objects.get(pk=run.pk).state == DeploymentRun.State.RUNNING


@pytest.mark.parametrize("result", ["failure", "rolled_back"])
def test_a_failed_run_may_finish_with_open_steps_and_closes_their_time(run, owner, result):
    first = steps_of(run)[0]
    run.step_action(first, "start", owner, at=at(10, 1))
    deployment = run.finish(owner, result, at=at(10, 6))
    stored = DeploymentRun.objects.get(pk=run.pk)
    assert (stored.state, stored.result) == (DeploymentRun.State.FINISHED, result)
    assert (stored.finished_at, stored.ended_by) == (at(10, 6), owner)
    assert RunEvent.objects.get(kind=RunEvent.Kind.FINISHED).text == result
    assert run.steps.get(position=1).hands_on_seconds == 300
    assert deployment.result == result


def test_a_run_cannot_finish_as_aborted_or_anything_else(run, owner):
    for result in ("aborted", "nonsense"):
        with pytest.raises(
            RunRefused, match="^A run finishes as a success, a failure or rolled back\\.$"
        ) as refused:
            run.finish(owner, result, at=at(10, 1))
        assert refused.value.status == 400


def test_the_success_refusal_counts_the_open_steps_and_names_the_first(run, owner):
    first, second, third = steps_of(run)
    run.step_action(first, "skip", owner, text="Not needed", at=at(10, 1))
    with pytest.raises(RunRefused, match=r"^2 steps not done or skipped yet \(first: “automated"):
        run.finish(owner, "success", at=at(10, 2))
    run.step_action(second, "skip", owner, text="Not needed", at=at(10, 3))
    with pytest.raises(RunRefused, match=r"^1 step not done or skipped yet \(first: “semi"):
        run.finish(owner, "success", at=at(10, 4))


def test_each_state_offers_exactly_its_actions(run, owner):
    first, second, third = steps_of(run)
    assert first.allowed_actions() == ["start", "block", "skip"]
    run.step_action(first, "start", owner, at=at(10, 1))
    assert first.allowed_actions() == ["done", "block", "skip"]
    run.step_action(first, "block", owner, text="Stuck", at=at(10, 2))
    assert first.allowed_actions() == ["unblock", "skip"]
    run.step_action(first, "skip", owner, text="Gave up", at=at(10, 3))
    assert first.allowed_actions() == []


@pytest.mark.parametrize(
    ("action", "message"),
    [("skip", "Say why the step is skipped."), ("block", "Say what blocks the step.")],
)
def test_a_missing_reason_is_a_bad_request_that_says_what_is_missing(run, owner, action, message):
    with pytest.raises(RunRefused) as refused:
        run.step_action(steps_of(run)[0], action, owner, text=" ", at=at(10, 1))
    assert (str(refused.value), refused.value.status) == (message, 400)


def test_an_unknown_action_is_a_bad_request_naming_at_most_thirty_characters(run, owner):
    with pytest.raises(RunRefused) as refused:
        run.step_action(steps_of(run)[0], "x" * 40, owner, at=at(10, 1))
    assert str(refused.value) == f"There is no step action “{'x' * 30}”."
    assert refused.value.status == 400


def test_a_blank_abort_is_refused_with_its_reason(run, owner):
    with pytest.raises(RunRefused) as refused:
        run.abort(owner, "", at=at(10, 1))
    assert (str(refused.value), refused.value.status) == ("Say why the run is aborted.", 400)


def test_actions_record_who_opened_and_closed_each_interval_and_when(run, owner, teammate):
    first, second, _ = steps_of(run)
    run.step_action(first, "start", owner, at=at(10, 1))
    run.step_action(first, "block", teammate, text="Stuck", at=at(10, 2))
    run.step_action(second, "start", owner, at=at(10, 3))
    run.restart_from(second, teammate, at=at(10, 4))
    second.refresh_from_db()
    run.step_action(second, "start", owner, at=at(10, 5))
    run.finish(teammate, "failure", at=at(10, 9))
    spans = [
        (i.step.position, i.kind, i.started_by, i.ended_by)
        for i in RunStepInterval.objects.filter(step__run=run).order_by("started_at", "pk")
    ]
    assert spans == [
        (1, "working", owner, teammate),
        (1, "blocked", teammate, teammate),
        (2, "working", owner, teammate),
        (2, "working", owner, teammate),
    ]
    events = list(
        run.events.order_by("at", "pk").values_list("kind", "actor__username", "at", "text")
    )
    assert events[1:] == [
        ("start", "owner", at(10, 1), ""),
        ("block", "teammate", at(10, 2), "Stuck"),
        ("start", "owner", at(10, 3), ""),
        ("restarted", "teammate", at(10, 4), ""),
        ("start", "owner", at(10, 5), ""),
        ("finished", "teammate", at(10, 9), "failure"),
    ]


def test_an_aborted_run_records_who_ended_it_in_the_event_and_the_open_intervals(
    run, owner, teammate
):
    first = steps_of(run)[0]
    run.step_action(first, "start", owner, at=at(10, 1))
    run.abort(teammate, "Wrong tag", at=at(10, 2))
    assert first.intervals.get().ended_by == teammate
    event = run.events.get(kind=RunEvent.Kind.ABORTED)
    assert (event.actor, event.at, event.text) == (teammate, at(10, 2), "Wrong tag")
    stored = DeploymentRun.objects.get(pk=run.pk)
    assert (stored.result, stored.ended_by) == ("aborted", teammate)
