"""Dashboard computations checked against small data sets worked out by hand."""

import datetime
import sqlite3

import pytest
from django.utils import timezone

from improvements.models import Category, Event, Improvement
from improvements.reporting import metrics
from improvements.reporting.effect_statistics import Outcome, compare, lag1_autocorrelation
from improvements.reporting.metrics import Filters
from retros.models import Deployment, Finding, ProcessStep, ProcessStepChange
from tests.factories import (
    DeploymentFactory,
    DutyWeekFactory,
    FindingFactory,
    ImprovementFactory,
    ProcessStepFactory,
    UnitFactory,
)
from tests.improvements.metrics_helpers import (
    END,
    START,
    at,
    create,
    deploy,
    done_card,
    link,
    move,
    retro_in_week,
)

# --- Percentiles ---------------------------------------------------------------------------


def test_percentile_cont_interpolates_like_postgresql():
    assert metrics.percentile_cont([4, 1, 3, 2], 0.5) == 2.5
    assert metrics.percentile_cont([1, 2, 3, 4], 0.85) == pytest.approx(3.55)
    assert metrics.percentile_cont([7], 0.85) == 7
    assert metrics.percentile_cont([], 0.5) is None


def test_the_sqlite_aggregate_gives_the_same_percentiles():
    connection = sqlite3.connect(":memory:")
    connection.create_aggregate(metrics.SQLITE_PERCENTILE, 2, metrics.SQLitePercentile)
    connection.execute("create table t (g text, v real)")
    connection.executemany(
        "insert into t values (?, ?)", [("a", 1), ("a", 2), ("a", 3), ("a", 4), ("b", 10)]
    )
    rows = connection.execute(
        f"select g, {metrics.SQLITE_PERCENTILE}(v, 0.85) from t group by g order by g"
    ).fetchall()
    assert rows[0][0] == "a" and rows[0][1] == pytest.approx(3.55)
    assert rows[1] == ("b", 10)


def test_a_percentile_fraction_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError, match=r"^A percentile fraction lies between 0 and 1\.$"):
        metrics.Percentile("id", 1.5)


# --- Flow ------------------------------------------------------------------------------------


def test_lead_and_cycle_time_medians_and_85th_percentiles(filters, columns):
    # Lead times 2, 4, 6, 10 days; cycle times 1, 2, 3, 5 days.
    done_card(columns, created=1, started=2, done=3)
    done_card(columns, created=1, started=3, done=5, category="tooling")
    done_card(columns, created=2, started=5, done=8)
    done_card(columns, created=5, started=10, done=15, category="tooling")
    # Not counted: not done, done before the range, dropped-like (still in Ideas).
    ImprovementFactory(created_at=at(1))
    done_card(columns, created=-20, started=-15, done=-10)

    figures = metrics.flow_times(filters)
    overall = figures["overall"]
    assert overall["count"] == 4
    assert overall["lead_median"] == pytest.approx(5)
    assert overall["lead_p85"] == pytest.approx(8.2)  # 6 + 0.55 × (10 − 6)
    assert overall["cycle_median"] == pytest.approx(2.5)
    assert overall["cycle_p85"] == pytest.approx(4.1)  # 3 + 0.55 × (5 − 3)

    by_name = {row["category__name"]: row for row in figures["categories"]}
    assert by_name["Automate"]["lead_median"] == pytest.approx(4)  # 2 and 6
    assert by_name["Tooling"]["lead_median"] == pytest.approx(7)  # 4 and 10
    assert by_name["Tooling"]["cycle_p85"] == pytest.approx(2 + 0.85 * 3)  # 2 and 5


def test_cycle_time_leaves_out_cards_that_never_started(filters, columns):
    done_card(columns, created=1, started=None, done=3)
    done_card(columns, created=1, started=2, done=6)
    overall = metrics.flow_times(filters)["overall"]
    assert (overall["count"], overall["cycle_count"]) == (2, 1)
    assert overall["cycle_median"] == pytest.approx(4)


def test_throughput_counts_cards_done_per_week_with_empty_weeks(filters, columns):
    done_card(columns, created=1, started=1, done=2)
    done_card(columns, created=1, started=1, done=7)
    done_card(columns, created=1, started=1, done=22)
    weeks = metrics.throughput_per_week(filters)
    assert [(w["week"].isoformat(), w["count"]) for w in weeks] == [
        ("2025-03-03", 2),
        ("2025-03-10", 0),
        ("2025-03-17", 0),
        ("2025-03-24", 1),
    ]


def test_cumulative_flow_counts_cards_per_column_at_the_end_of_each_day(columns):
    ideas, progress, done = columns["Ideas"], columns["In progress"], columns["Done"]
    a, b, c = ImprovementFactory(), ImprovementFactory(), ImprovementFactory()
    create(c, ideas, -5)  # before the range: part of the opening counts
    create(a, ideas, 1)
    create(b, ideas, 2)
    move(a, ideas, progress, 3)
    move(c, ideas, progress, 3)
    move(a, progress, done, 4)
    move(a, done, progress, 4)  # moved back the same day
    move(a, progress, done, 5)
    Event.objects.create(improvement=b, kind=Event.Kind.COMMENTED, at=at(2))  # no column

    flow = metrics.cumulative_flow(
        Filters(start=START, end=START + datetime.timedelta(days=4), period="day")
    )
    counts = {column["name"]: column["counts"] for column in flow["columns"]}
    assert [p.isoformat() for p in flow["periods"]][0] == "2025-03-03"
    assert counts["Ideas"] == [2, 3, 1, 1, 1]
    assert counts["In progress"] == [0, 0, 2, 2, 1]
    assert counts["Done"] == [0, 0, 0, 0, 1]
    assert counts["Next"] == [0, 0, 0, 0, 0]


def test_cumulative_flow_by_week_counts_at_each_week_end(filters, columns):
    ideas, done = columns["Ideas"], columns["Done"]
    a = ImprovementFactory()
    create(a, ideas, 2)
    move(a, ideas, done, 9)
    counts = {c["name"]: c["counts"] for c in metrics.cumulative_flow(filters)["columns"]}
    assert counts["Ideas"] == [1, 0, 0, 0]
    assert counts["Done"] == [0, 1, 1, 1]


def test_ageing_work_lists_active_cards_longest_in_column_first(filters, columns):
    now = timezone.now()
    newer = ImprovementFactory(
        column=columns["In progress"], column_entered_at=now - datetime.timedelta(days=2)
    )
    older = ImprovementFactory(
        column=columns["In progress"], column_entered_at=now - datetime.timedelta(days=9)
    )
    ImprovementFactory(column=columns["Ideas"], column_entered_at=now - datetime.timedelta(days=50))
    assert metrics.ageing_work(filters) == [older, newer]


def test_wip_per_column_flags_columns_over_their_limit(filters, columns):
    for _ in range(5):
        ImprovementFactory(column=columns["In progress"])
    ImprovementFactory(column=columns["In progress"], archived_at=timezone.now())
    rows = {row["name"]: row for row in metrics.wip_per_column(filters)}
    assert rows["In progress"]["count"] == 5
    assert rows["In progress"]["over_limit"] is True  # limit 4
    assert rows["Next"]["over_limit"] is False


# --- Retro follow-through ------------------------------------------------------------------


def test_follow_through_shares(columns):
    retro = retro_in_week(START)
    long_ago = timezone.now() - datetime.timedelta(weeks=10)
    quick = ImprovementFactory(
        column=columns["Done"],
        created_at=long_ago,
        done_at=long_ago + datetime.timedelta(weeks=3),
    )
    slow = ImprovementFactory(
        column=columns["Done"],
        created_at=long_ago,
        done_at=long_ago + datetime.timedelta(weeks=6),
    )
    open_card = ImprovementFactory(created_at=long_ago)
    for card in (quick, slow, open_card):
        link(FindingFactory(retro=retro, kind=Finding.Kind.PAIN), card)
    FindingFactory(retro=retro, kind=Finding.Kind.IDEA)  # not taken up
    FindingFactory(retro=retro, kind=Finding.Kind.WENT_WELL)  # not a pain or idea

    today = timezone.localdate()
    figures = metrics.follow_through(Filters(start=START, end=today))
    assert (figures["became"], figures["findings"]) == (3, 4)
    assert figures["became_share"] == 0.75
    assert (figures["done_4"], figures["old_4"]) == (1, 3)
    assert (figures["done_8"], figures["old_8"]) == (2, 3)


def test_an_action_slips_once_two_later_retros_have_passed(filters, columns):
    first = retro_in_week(START)
    card = ImprovementFactory(title="Slipped")
    link(FindingFactory(retro=first), card)
    finished = ImprovementFactory(title="Finished", column=columns["Done"], done_at=at(3))
    link(FindingFactory(retro=first), finished)
    recent = ImprovementFactory(title="Recent")
    second = retro_in_week(START + datetime.timedelta(weeks=1))
    link(FindingFactory(retro=second), recent)
    # Raised again by the second retro: still counted from the first.
    link(FindingFactory(retro=second), card)
    retro_in_week(START + datetime.timedelta(weeks=2))
    retro_in_week(START + datetime.timedelta(weeks=3), submitted=False)  # not held yet

    slipped = metrics.slipped_actions(filters)
    assert [(c.title, c.later_retros) for c in slipped] == [("Slipped", 2)]


# --- Deployments: XmR ----------------------------------------------------------------------


def test_xmr_limits_and_a_point_outside_them(filters):
    for day, minutes in enumerate([10, 12, 11, 13, 30], start=1):
        deploy(day, minutes)
    chart = metrics.xmr_chart(filters, "elapsed")
    # Mean 76 / 5 = 15.2; moving ranges 2, 1, 2, 17: average 5.5.
    assert chart.centre == pytest.approx(15.2)
    assert chart.average_moving_range == pytest.approx(5.5)
    assert chart.upper == pytest.approx(15.2 + 2.66 * 5.5)  # 29.83
    assert chart.lower == pytest.approx(15.2 - 2.66 * 5.5)  # 0.57
    assert [p["value"] for p in chart.points] == [10, 12, 11, 13, 30]
    assert [p["outside"] for p in chart.points] == [False, False, False, False, True]
    assert not any(p["run"] for p in chart.points)


def test_xmr_uses_hands_on_minutes_when_asked(filters):
    deploy(1, 50, hands_on=20)
    deploy(2, 60, hands_on=30)
    chart = metrics.xmr_chart(filters, "hands_on")
    assert chart.centre == pytest.approx(25)
    assert chart.average_moving_range == pytest.approx(10)


def test_a_run_of_eight_on_one_side_is_a_signal_and_seven_is_not():
    centre, lower, upper = 10, 0, 20
    seven = [11] * 7 + [9]
    assert not any(m["run"] for m in metrics.mark_signals(seven, centre, lower, upper))
    eight = [9, 11, 11, 11, 11, 11, 11, 11, 11, 9]
    marks = metrics.mark_signals(eight, centre, lower, upper)
    assert [m["run"] for m in marks] == [False] + [True] * 8 + [False]
    # A point exactly on the centre line breaks the run.
    broken = [11] * 4 + [10] + [11] * 4
    assert not any(m["run"] for m in metrics.mark_signals(broken, centre, lower, upper))
    below = [5] * 8
    assert all(m["run"] for m in metrics.mark_signals(below, centre, lower, upper))


def test_blocked_or_restarted_share_per_week(filters):
    deploy(1, 30, blocked_minutes=15)
    deploy(2, 30, restarts=1)
    deploy(3, 30, blocked_minutes=5, restarts=2)
    deploy(4, 30)
    deploy(9, 30)
    weeks = metrics.blocked_share_per_week(filters)
    first, second = weeks[0], weeks[1]
    assert (first["total"], first["blocked"], first["restarted"], first["either"]) == (4, 2, 2, 3)
    assert first["share"] == 0.75
    assert (second["total"], second["share"]) == (1, 0)
    assert weeks[2]["share"] is None


def test_manual_steps_left_over_time_undoes_later_changes(filters):
    manual = ProcessStepFactory(mode=ProcessStep.Mode.MANUAL)
    ProcessStepFactory(mode=ProcessStep.Mode.SEMI_AUTOMATIC)
    automated = ProcessStepFactory(mode=ProcessStep.Mode.AUTOMATED)
    dropped = ProcessStepFactory(mode=ProcessStep.Mode.DROPPED)
    # Week 2: one step automated; week 3: another dropped; week 4: one turned manual again.
    ProcessStepChange.objects.create(
        step=automated, old_mode="manual", new_mode="automated", changed_at=at(9)
    )
    ProcessStepChange.objects.create(
        step=dropped, old_mode="semi", new_mode="dropped", changed_at=at(16)
    )
    ProcessStepChange.objects.create(
        step=manual, old_mode="automated", new_mode="manual", changed_at=at(23)
    )
    weeks = metrics.manual_steps_over_time(filters)
    # Two manual now; undo week 4 (+1) → 1, week 3 (−1) → 2, week 2 (−1) → 3.
    assert [w["manual"] for w in weeks] == [3, 2, 1, 2]


# --- DORA ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("per_day", "band"),
    [
        (3, "elite"),
        (1, "elite"),
        (0.99, "high"),
        (1 / 7, "high"),
        (1 / 7 - 0.001, "medium"),
        (1 / 30, "medium"),
        (1 / 30 - 0.001, "low"),
        (0, "low"),
    ],
)
def test_deployment_frequency_bands_at_their_boundaries(per_day, band):
    assert metrics.frequency_band(per_day) == band


@pytest.mark.parametrize(
    ("rate", "band"),
    [
        (0, "elite"),
        (0.05, "elite"),
        (0.0501, "high"),
        (0.10, "high"),
        (0.1001, "medium"),
        (0.15, "medium"),
        (0.1501, "low"),
        (1, "low"),
    ],
)
def test_change_failure_rate_bands_at_their_boundaries(rate, band):
    assert metrics.failure_band(rate) == band


def test_dora_counts_production_deployments_and_failures(db):
    week = Filters(start=START, end=START + datetime.timedelta(days=6))
    for day in range(1, 8):
        deploy(day, 30, environment="production")
    deploy(1, 30, environment="production", result=Deployment.Result.FAILURE)
    deploy(2, 30, environment="production", result=Deployment.Result.ABORTED)  # not counted
    deploy(3, 30, environment="staging", result=Deployment.Result.FAILURE)  # not production
    figures = metrics.dora(week)
    assert (figures["deployments"], figures["failed"]) == (8, 1)
    assert figures["per_day"] == pytest.approx(8 / 7)
    assert figures["frequency_band"] == "elite"
    assert figures["failure_rate"] == pytest.approx(0.125)
    assert figures["failure_band"] == "medium"


def test_dora_with_no_deployments_has_no_failure_band(filters):
    figures = metrics.dora(filters)
    assert figures["frequency_band"] == "low"
    assert figures["failure_rate"] is None and figures["failure_band"] is None


# --- Did it help? --------------------------------------------------------------------------


def test_every_suggestion_maps_to_a_verdict_people_can_set():
    assert set(metrics.SUGGESTED_VERDICTS) == set(Outcome)
    assert set(metrics.SUGGESTED_VERDICTS.values()) <= set(Improvement.Verdict)


def test_the_n_production_deployments_around_the_done_date_go_to_the_rank_test(filters, columns):
    step = ProcessStepFactory()
    # Six production deployments on days 1-6 then six on days 8-13; the card is done on day 7.
    before = [500, 100, 120, 80, 100, 90]
    after = [60, 70, 50, 65, 900, 900]
    for day, minutes in zip(range(1, 7), before, strict=True):
        deploy(day, minutes, hands_on=40)
        deploy(day, 1, environment="staging")  # another environment: left out
    for day, minutes in zip(range(8, 14), after, strict=True):
        deploy(day, minutes, hands_on=40)
    card = done_card(columns, created=1, started=2, done=7, target_step=step)
    hands_on = done_card(
        columns, created=1, started=2, done=7, expected_effect="Less hands-on toil"
    )
    done_card(columns, created=1, started=2, done=7)  # no step, no expected effect: left out

    rows = {row["improvement"].pk: row for row in metrics.effects(Filters(START, END, window=6))}
    assert set(rows) == {card.pk, hands_on.pk}
    row = rows[card.pk]
    assert (row["before_count"], row["after_count"]) == (6, 6)
    assert (row["median_before"], row["median_after"]) == (100, 67.5)
    assert row["figure"] == "elapsed" and row["environment"] == "production"
    assert row["comparison"] == compare(before, after)
    # Two blocked deployments after keep a faster-looking median from being a verdict.
    assert row["suggestion"] == Improvement.Verdict.UNCLEAR
    assert row["suggestion_label"] == "inconclusive"
    assert row["sentence"].startswith("inconclusive: median 100 → 67.5 min (")

    other = rows[hands_on.pk]
    assert other["figure"] == "hands_on"
    assert other["median_before"] == other["median_after"] == 40
    assert other["suggestion"] == Improvement.Verdict.NO_EFFECT  # all equal: interval exactly 0


def test_another_environment_compares_its_own_deployments(filters, columns):
    for day in range(1, 7):
        deploy(day, 100, environment="staging")
        deploy(day, 5)
    for day in range(8, 14):
        deploy(day, 40, environment="staging")
        deploy(day, 5)
    done_card(columns, created=1, started=2, done=7, expected_effect="Faster")
    (production,) = metrics.effects(Filters(START, END))
    (staging,) = metrics.effects(Filters(START, END, environment="staging"))
    assert production["suggestion"] == Improvement.Verdict.NO_EFFECT
    assert staging["suggestion"] == Improvement.Verdict.CONFIRMED
    # Ratios of minutes + 1: 41 / 101 = −59 %. Two groups of six tied values: variance
    # 3 · (13 − 420/132) = 29.45, z = (36 − 18 − ½) / 5.43 = 3.22.
    assert staging["sentence"] == (
        "likely helped: median 100 → 40 min (−59 %, 95 % CI −59 to −59 %), "
        "p = 0.0006, 6 deployments each side"
    )


def test_a_card_done_before_enough_deployments_has_too_little_data(filters, columns):
    deploy(1, 100)
    deploy(5, 80)
    card = done_card(columns, created=1, started=1, done=3, expected_effect="Faster")
    (row,) = metrics.effects(filters)
    assert row["improvement"] == card
    assert (row["before_count"], row["after_count"]) == (1, 1)
    assert row["suggestion"] == Improvement.Verdict.PENDING
    assert row["suggestion_label"] == "too little data"


def test_improvements_done_inside_the_window_are_named(filters, columns):
    for day in range(1, 14):
        deploy(day, 60)
    card = done_card(columns, created=1, started=1, done=7, expected_effect="Faster")
    inside = done_card(columns, created=1, started=1, done=10, title="Inside")
    done_card(columns, created=1, started=1, done=20, title="After the last deployment")
    ImprovementFactory(column=columns["Next"], done_at=at(9), title="Not done")
    rows = {row["improvement"].pk: row for row in metrics.effects(Filters(START, END, window=6))}
    assert [other["pk"] for other in rows[card.pk]["others_done"]] == [inside.pk]


def test_a_card_that_targets_a_step_uses_the_steps_own_minutes_when_runs_time_it(
    filters, columns, monkeypatch
):
    for day in range(1, 14):
        deploy(day, 60)
    step = ProcessStepFactory()
    card = done_card(columns, created=1, started=1, done=7, target_step=step)
    untouched = done_card(columns, created=1, started=1, done=7, expected_effect="Faster")
    asked = []

    def step_minutes(cards, environment, window):
        asked.append(([c.pk for c in cards], environment, window))
        return {card.pk: metrics.StepMinutes(history=[], before=[20] * 6, after=[8] * 6)}

    monkeypatch.setattr(metrics, "step_minutes", step_minutes)
    rows = {row["improvement"].pk: row for row in metrics.effects(Filters(START, END))}
    assert asked == [([card.pk], "production", metrics.DEFAULT_WINDOW)]
    assert rows[card.pk]["figure"] == "step"
    assert rows[card.pk]["figure_label"] == "minutes of the targeted step"
    assert rows[card.pk]["suggestion"] == Improvement.Verdict.CONFIRMED
    assert rows[untouched.pk]["figure"] == "elapsed"
    assert rows[untouched.pk]["suggestion"] == Improvement.Verdict.NO_EFFECT


def test_a_card_alone_gets_the_same_row_as_on_the_dashboard(filters, columns):
    # 90 deployments, eight a day, so that the history before the window counts too.
    minutes = [40 + (n * 37) % 50 for n in range(90)]
    for n, value in enumerate(minutes):
        started = at(1 + n // 8, hour=9 + n % 8)
        DeploymentFactory(
            started_at=started, finished_at=started + datetime.timedelta(minutes=value)
        )
    first = done_card(columns, created=1, started=1, done=8, expected_effect="Faster")
    second = done_card(columns, created=1, started=1, done=9, expected_effect="Faster")
    rows = {row["improvement"].pk: row for row in metrics.effects(filters)}
    for card in (first, second):
        card.refresh_from_db()
        alone = metrics.effect_of(card)
        assert alone["comparison"] == rows[card.pk]["comparison"]
        assert alone["sentence"] == rows[card.pk]["sentence"]
        assert alone["others_done"] == rows[card.pk]["others_done"]
    # Done on day 8 at noon: 59 deployments started before it (12 in the window, 47 more
    # history for the autocorrelation); the 12 after run to day 9 at 15:00, past the second
    # card's done time (day 9 at noon).
    assert rows[first.pk]["before_count"] == 12
    expected = lag1_autocorrelation([minutes[:59], minutes[59:71]])
    assert rows[first.pk]["comparison"].autocorrelation == pytest.approx(expected)
    assert [o["pk"] for o in rows[first.pk]["others_done"]] == [second.pk]


def test_an_unfinished_card_has_no_effect_yet(columns):
    assert metrics.effect_of(ImprovementFactory(column=columns["Next"])) is None
    assert metrics.effect_of(ImprovementFactory(column=columns["Done"], done_at=None)) is None


# --- Filters -------------------------------------------------------------------------------


def test_unit_and_category_filters_narrow_cards_and_deployments(columns):
    payments, search = UnitFactory(name="Payments"), UnitFactory(name="Search")
    done_card(columns, created=1, started=1, done=2, unit=payments)
    done_card(columns, created=1, started=1, done=2, unit=search, category="tooling")
    DutyWeekFactory(week_start=START, unit=payments)
    deploy(1, 30)  # in the Payments duty week
    deploy(8, 30)  # no duty week

    for_payments = Filters(start=START, end=END, unit=payments)
    assert metrics.flow_times(for_payments)["overall"]["count"] == 1
    assert len(metrics.xmr_chart(for_payments).points) == 1
    tooling = Filters(start=START, end=END, category=Category.objects.get(slug="tooling"))
    assert metrics.flow_times(tooling)["overall"]["count"] == 1
    assert Improvement.objects.count() == 2


def test_a_deployment_starting_at_the_done_moment_counts_as_after(filters, columns):
    for day in (1, 2, 3):
        deploy(day, 100)
    started = at(4)
    DeploymentFactory(started_at=started, finished_at=started + datetime.timedelta(minutes=50))
    card = done_card(columns, created=1, started=1, done=4, expected_effect="Faster")
    card.done_at = started
    card.save(update_fields=["done_at"])
    (row,) = metrics.effects(Filters(START, END, window=6))
    assert (row["before_count"], row["after_count"]) == (3, 1)
    assert row["median_after"] == 50
