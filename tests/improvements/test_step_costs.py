"""The "where do the minutes go" panel: per-step hands-on minutes, ranked, with their cards."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from improvements.reporting.metrics import Filters
from improvements.reporting.step_costs import step_costs
from retros.models import DeploymentRun
from tests.factories import ImprovementFactory
from tests.retros.run_helpers import make_process


def deploy(user, minutes: dict[int, int], when, block: int | None = None, restart=False):
    """A finished run in which step n took minutes[n] (started, then done)."""
    run = DeploymentRun.start(user, environment="production", at=when)
    moment = when
    for step in run.steps.all():
        run.step_action(step, "start", user, at=moment)
        if block == step.position:
            run.step_action(step, "block", user, text="Waiting", at=moment)
            run.step_action(step, "unblock", user, at=moment + datetime.timedelta(minutes=1))
            moment += datetime.timedelta(minutes=1)
        moment += datetime.timedelta(minutes=minutes.get(step.position, 0))
        run.step_action(step, "done", user, at=moment)
    if restart:
        run.restart_from(run.steps.last(), user, at=moment)
        last = run.steps.last()
        run.step_action(last, "start", user, at=moment)
        run.step_action(last, "done", user, at=moment)
    run.finish(user, "success", at=moment)
    return run


@pytest.fixture
def history(owner):
    steps = make_process("manual", "automated", "manual")
    now = timezone.now() - datetime.timedelta(days=1)
    deploy(owner, {1: 10, 2: 30, 3: 2}, now)
    deploy(owner, {1: 20, 2: 30, 3: 2}, now, block=3)
    deploy(owner, {1: 30, 2: 30, 3: 2}, now, restart=True)
    running = DeploymentRun.start(owner, environment="production", at=now)
    running.step_action(running.steps.first(), "start", owner, at=now - datetime.timedelta(hours=9))
    return steps


def test_steps_are_ranked_by_hands_on_minutes_with_median_and_spread(history):
    rows = step_costs(Filters.default())
    first, third, automated = history[0], history[2], history[1]
    assert [row["step"] for row in rows] == [first, third, automated]
    top = rows[0]
    assert (top["runs"], top["hands_on_minutes"], top["median_minutes"]) == (3, 60, 20.0)
    assert (top["p25_minutes"], top["p75_minutes"]) == (15.0, 25.0)
    assert round(top["cumulative"], 3) == round(60 / 66, 3)
    assert rows[-1]["cumulative"] == 1
    assert (rows[2]["hands_on_minutes"], rows[2]["waiting_minutes"]) == (0, 90)
    assert (rows[1]["block_count"], rows[1]["blocked_runs"], rows[1]["restart_count"]) == (1, 1, 1)


def test_running_runs_and_runs_outside_the_range_do_not_count(history):
    today = timezone.localdate()
    assert step_costs(Filters.default(start=today, end=today)) == []
    long_ago = today - datetime.timedelta(days=400)
    assert step_costs(Filters.default(start=long_ago, end=long_ago)) == []


def test_each_step_lists_the_improvements_that_target_it_with_their_column(history, columns):
    card = ImprovementFactory(title="Automate the freeze", target_step=history[0])
    rows = step_costs(Filters.default())
    assert rows[0]["improvements"] == [card]
    assert rows[1]["improvements"] == []


def test_a_step_shows_its_three_latest_cards_and_how_many_more_there_are(history, columns):
    cards = [ImprovementFactory(title=f"Card {n}", target_step=history[0]) for n in range(5)]
    row = step_costs(Filters.default())[0]
    assert row["improvements"] == cards[:1:-1]
    assert row["more_improvements"] == 2


def test_the_figures_take_three_queries_whatever_the_number_of_runs(owner):
    make_process("manual", "semi", "automated", "manual")
    now = timezone.now() - datetime.timedelta(days=1)
    deploy(owner, {1: 5}, now)
    with CaptureQueriesContext(connection) as few:
        step_costs(Filters.default())
    for minutes in range(6):
        deploy(owner, {1: minutes, 4: minutes}, now)
    with CaptureQueriesContext(connection) as many:
        step_costs(Filters.default())
    assert len(few) == len(many) == 3


def test_the_panel_renders_on_the_dashboard_and_as_csv(owner_client, history):
    ImprovementFactory(title="Automate the freeze", target_step=history[0])
    panel = owner_client.get("/dashboard/panel/step-costs/")
    assert panel.status_code == 200
    body = panel.content.decode()
    assert "Where do the minutes go?" in body
    assert body.index("manual step 1") < body.index("manual step 3")
    assert "Automate the freeze" in body
    csv = owner_client.get("/dashboard/step-costs.csv").content.decode()
    assert csv.splitlines()[1].startswith("manual step 1,3,60,")
    page = owner_client.get("/dashboard/").content.decode()
    assert "panel-step-costs" in page or "/dashboard/panel/step-costs/" in page


def test_the_panel_says_so_when_no_run_finished(owner_client):
    body = owner_client.get("/dashboard/panel/step-costs/").content.decode()
    assert "No deployment run finished in the range yet" in body


def test_a_done_card_gets_its_steps_own_minutes_before_and_after(owner, columns):
    from improvements.reporting.step_costs import step_effects

    slow, automated = make_process("manual", "automated")
    done_at = timezone.now() - datetime.timedelta(days=10)
    for day, minutes in [(-4, 22), (-3, 20), (-2, 18), (-1, 40), (1, 6), (2, 5), (3, 4)]:
        deploy(owner, {1: minutes, 2: 10}, done_at + datetime.timedelta(days=day))
    card = ImprovementFactory(target_step=slow, column=columns["Done"], done_at=done_at)
    waiting = ImprovementFactory(target_step=automated, column=columns["Done"], done_at=done_at)
    not_done = ImprovementFactory(target_step=slow)
    with CaptureQueriesContext(connection) as queries:
        effects = step_effects([card, waiting, not_done], window=3)
    assert len(queries) == 1
    assert effects[card.pk] == {"before": 20.0, "after": 5.0, "before_runs": 3, "after_runs": 3}
    assert effects[waiting.pk]["before"] == effects[waiting.pk]["after"] == 10.0
    assert not_done.pk not in effects


def test_the_panel_shows_a_done_cards_step_minutes_before_and_after(owner_client, owner, columns):
    slow = make_process("manual")[0]
    done_at = timezone.now() - datetime.timedelta(days=10)
    for day, minutes in [(-2, 20), (-1, 20), (1, 5), (2, 5)]:
        deploy(owner, {1: minutes}, done_at + datetime.timedelta(days=day))
    ImprovementFactory(title="Script it", target_step=slow, column=columns["Done"], done_at=done_at)
    body = owner_client.get("/dashboard/panel/step-costs/?window=2").content.decode()
    assert "this step per run: 20.0 → 5.0 min (median of 2 runs before, 2 after)" in body
    csv = owner_client.get("/dashboard/step-costs.csv?window=2").content.decode()
    assert "Script it (Done) step 20 -> 5 min per run" in csv


def test_the_did_it_help_check_reads_the_targeted_steps_own_minutes_from_the_runs(owner, columns):
    from improvements.reporting import metrics

    slow, other = make_process("manual", "manual")
    done_at = timezone.now() - datetime.timedelta(days=20)
    minutes_before = [30, 28, 26, 24, 22]
    for day, minutes in enumerate(minutes_before, start=-5):
        deploy(owner, {1: minutes, 2: 3}, done_at + datetime.timedelta(days=day), block=2)
    for day in range(1, 4):
        deploy(owner, {1: 6, 2: 3}, done_at + datetime.timedelta(days=day))
    # A staging run right after the done time, far slower: production's check never sees it.
    staging = DeploymentRun.start(owner, environment="staging", at=done_at)
    for step in staging.steps.all():
        staging.step_action(step, "start", owner, at=done_at)
        staging.step_action(step, "done", owner, at=done_at + datetime.timedelta(minutes=99))
    staging.finish(owner, at=done_at + datetime.timedelta(minutes=99))
    toil = ImprovementFactory(
        target_step=slow, column=columns["Done"], done_at=done_at, expected_effect="less toil"
    )
    whole = ImprovementFactory(target_step=other, column=columns["Done"], done_at=done_at)
    never_ran = ImprovementFactory(
        target_step=make_process("manual")[0], column=columns["Done"], done_at=done_at
    )
    with CaptureQueriesContext(connection) as queries:
        found = metrics.step_minutes([toil, whole, never_ran], "production", window=3)
    assert len(queries) == 1
    assert found[toil.pk] == metrics.StepMinutes(
        history=[30.0, 28.0], before=[26.0, 24.0, 22.0], after=[6.0, 6.0, 6.0]
    )
    # Not about hands-on work: the step's whole time, its blocked minute included.
    assert found[whole.pk].before == [4.0, 4.0, 4.0] and found[whole.pk].after == [3.0] * 3
    assert never_ran.pk not in found

    rows = {row["improvement"].pk: row for row in metrics.effects(Filters.default(window=3))}
    assert rows[toil.pk]["figure"] == "step"
