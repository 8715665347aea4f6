"""The step state machine: every action from every state, allowed or refused with a reason."""

import pytest

from retros.models import DeploymentRun, RunEvent, RunRefused, RunStep, RunStepInterval
from tests.retros.run_helpers import at, make_process, start_run

S = RunStep.State
ALLOWED = {
    ("start", S.TODO): S.IN_PROGRESS,
    ("done", S.IN_PROGRESS): S.DONE,
    ("block", S.TODO): S.BLOCKED,
    ("block", S.IN_PROGRESS): S.BLOCKED,
    ("unblock", S.BLOCKED): S.IN_PROGRESS,
    ("skip", S.TODO): S.SKIPPED,
    ("skip", S.IN_PROGRESS): S.SKIPPED,
    ("skip", S.BLOCKED): S.SKIPPED,
}
# How to bring a fresh step into each state with real actions.
PATHS = {
    S.TODO: [],
    S.IN_PROGRESS: [("start", "")],
    S.BLOCKED: [("start", ""), ("block", "VPN down")],
    S.DONE: [("start", ""), ("done", "")],
    S.SKIPPED: [("skip", "Covered by CI")],
}
CASES = [(action, state) for action in RunStep.TRANSITIONS for state in S]


def test_the_table_lists_exactly_the_allowed_transitions():
    table = {
        (action, source): target
        for action, (sources, target) in RunStep.TRANSITIONS.items()
        for source in sources
    }
    assert table == ALLOWED
    assert len(CASES) == 25


@pytest.fixture
def run(owner):
    make_process("manual", "automated")
    return start_run(owner)


def bring(run, step, state, user):
    for minute, (action, text) in enumerate(PATHS[state], start=1):
        run.step_action(step, action, user, text=text, at=at(10, minute))
    step.refresh_from_db()
    assert step.state == state


@pytest.mark.parametrize(("action", "state"), CASES, ids=[f"{a}-from-{s}" for a, s in CASES])
def test_each_action_from_each_state_is_allowed_or_refused(run, owner, teammate, action, state):
    step = run.steps.first()
    bring(run, step, state, owner)
    events_before = RunEvent.objects.count()
    revision_before = DeploymentRun.objects.get(pk=run.pk).revision
    text = "Because" if action in ("block", "skip") else ""
    if (action, state) in ALLOWED:
        run.step_action(step, action, teammate, text=text, at=at(11))
        step.refresh_from_db()
        assert step.state == ALLOWED[(action, state)]
        assert (step.acted_by, step.acted_at) == (teammate, at(11))
        assert RunEvent.objects.filter(step=step, kind=action, actor=teammate).exists()
        assert DeploymentRun.objects.get(pk=run.pk).revision == revision_before + 1
    else:
        with pytest.raises(RunRefused) as refused:
            run.step_action(step, action, teammate, text=text, at=at(11))
        assert refused.value.status == 409
        assert step.title in str(refused.value)
        step.refresh_from_db()
        assert step.state == state
        assert RunEvent.objects.count() == events_before
        assert DeploymentRun.objects.get(pk=run.pk).revision == revision_before


def test_a_refusal_for_a_repeated_press_names_who_did_it_and_when(run, owner, teammate):
    step = run.steps.first()
    run.step_action(step, "start", owner, at=at(10, 42))
    with pytest.raises(RunRefused, match=r"already in progress: owner did that at 10:42"):
        run.step_action(step, "start", teammate, at=at(10, 43))


@pytest.mark.parametrize("action", ["block", "skip"])
def test_block_and_skip_need_a_reason(run, owner, action):
    step = run.steps.first()
    with pytest.raises(RunRefused) as refused:
        run.step_action(step, action, owner, text="   ", at=at(11))
    assert refused.value.status == 400
    assert RunStep.objects.get(pk=step.pk).state == S.TODO


def test_an_unknown_action_is_refused(run, owner):
    with pytest.raises(RunRefused, match="no step action"):
        run.step_action(run.steps.first(), "teleport", owner, at=at(11))


def test_unblocking_resumes_the_step_and_clears_its_cause(run, owner):
    step = run.steps.first()
    bring(run, step, S.BLOCKED, owner)
    assert step.block_cause == "VPN down"
    run.step_action(step, "unblock", owner, at=at(10, 30))
    step.refresh_from_db()
    assert (step.state, step.block_cause, step.blocks) == (S.IN_PROGRESS, "", 1)
    kinds = list(step.intervals.values_list("kind", flat=True))
    assert kinds == ["working", "blocked", "working"]
    assert step.intervals.filter(ended_at__isnull=True).count() == 1


@pytest.mark.parametrize("end", ["finish", "abort"])
def test_no_step_action_is_possible_once_the_run_has_ended(run, owner, teammate, end):
    step = run.steps.first()
    if end == "finish":
        run.finish(owner, "failure", at=at(11))
    else:
        run.abort(owner, "Wrong branch", at=at(11))
    with pytest.raises(RunRefused, match=r"already (finished|aborted) \(by owner at 11:00\)"):
        run.step_action(step, "start", teammate, at=at(11, 5))


def test_a_run_copies_the_active_steps_in_order_and_leaves_out_dropped_ones(owner):
    steps = make_process("manual", "dropped", "automated", "semi")
    steps[0].position, steps[3].position = 9, 0
    for step in steps:
        step.save()
    run = start_run(owner)
    copied = list(run.steps.values_list("position", "title", "mode", "how_to"))
    assert copied == [
        (1, "semi step 4", "semi", "Do 4"),
        (2, "automated step 3", "automated", "Do 3"),
        (3, "manual step 1", "manual", "Do 1"),
    ]
    assert RunStepInterval.objects.count() == 0
    assert run.events.get().kind == RunEvent.Kind.STARTED
