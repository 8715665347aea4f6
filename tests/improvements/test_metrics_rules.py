"""Dashboard rules that mutation testing (make mutate) found unpinned, each worked out by hand.

The verdict rule itself (effects()'s suggestion) is being replaced; these tests pin the figures
around it: the windows, the medians, the change, and everything else on the dashboard.
"""

import datetime

import pytest
from django.utils import timezone

from improvements.models import Category, Column, Event, Improvement
from improvements.reporting import metrics
from improvements.reporting.metrics import Filters, XmR
from retros.models import Deployment, Finding, ProcessStep, ProcessStepChange
from tests.factories import (
    CategoryFactory,
    ColumnFactory,
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

# --- Filters -------------------------------------------------------------------------------------


def test_the_default_range_is_the_last_91_days_up_to_today(db):
    today = timezone.localdate()

    filters = Filters.default()

    assert (filters.start, filters.end) == (today - datetime.timedelta(days=90), today)
    assert filters.days == 91
    assert (filters.window, filters.period, filters.unit) == (metrics.DEFAULT_WINDOW, "week", None)
    assert Filters.default(window=4).window == 4


def test_the_range_runs_from_the_first_midnight_to_the_midnight_after_the_last_day(filters):
    assert timezone.localtime(filters.start_at).date() == START
    assert timezone.localtime(filters.start_at).time() == datetime.time.min
    assert timezone.localtime(filters.end_at).date() == END + datetime.timedelta(days=1)
    assert timezone.localtime(filters.end_at).time() == datetime.time.min
    assert filters.days == 28


def test_deployments_at_the_range_edges(filters):
    first = DeploymentFactory(started_at=filters.start_at)
    DeploymentFactory(started_at=filters.start_at - datetime.timedelta(seconds=1))
    last = DeploymentFactory(started_at=filters.end_at - datetime.timedelta(seconds=1))
    DeploymentFactory(started_at=filters.end_at)

    assert set(filters.deployments()) == {first, last}


def test_the_weeks_of_a_range_are_every_monday_touching_it(db):
    filters = Filters(start=datetime.date(2025, 3, 5), end=datetime.date(2025, 3, 17))

    assert filters.weeks() == [
        datetime.date(2025, 3, 3),
        datetime.date(2025, 3, 10),
        datetime.date(2025, 3, 17),
    ]


def test_a_unit_filter_keeps_that_units_deployments_only(columns):
    payments, search = UnitFactory(name="Payments"), UnitFactory(name="Search")
    DutyWeekFactory(week_start=START, unit=payments)
    DutyWeekFactory(week_start=START + datetime.timedelta(weeks=1), unit=search)
    mine = deploy(1, 30)
    deploy(8, 30)

    assert list(Filters(START, END, unit=payments).deployments()) == [mine]


# --- Flow ----------------------------------------------------------------------------------------


def test_wip_counts_open_cards_of_the_filtered_unit_against_the_limit(filters, columns):
    payments = UnitFactory(name="Payments")
    for _ in range(4):
        ImprovementFactory(column=columns["In progress"], unit=payments)
    ImprovementFactory(column=columns["In progress"])

    mine = {row["name"]: row for row in metrics.wip_per_column(Filters(START, END, unit=payments))}
    everyone = {row["name"]: row for row in metrics.wip_per_column(filters)}

    assert (mine["In progress"]["count"], mine["In progress"]["over_limit"]) == (4, False)
    assert (everyone["In progress"]["count"], everyone["In progress"]["over_limit"]) == (5, True)
    assert everyone["In progress"]["limit"] == 4
    assert everyone["In progress"]["state"] == "active"
    assert everyone["In progress"]["column"] == columns["In progress"]
    assert (everyone["Ideas"]["count"], everyone["Ideas"]["limit"]) == (0, None)
    assert everyone["Ideas"]["over_limit"] is False


def test_dropped_cards_and_cards_done_outside_the_range_are_not_throughput(filters, columns):
    dropped = ColumnFactory(name="Dropped", state=Column.State.DROPPED)
    done_card(columns, created=1, started=1, done=2)
    ImprovementFactory(column=dropped, done_at=at(2))
    done_card(columns, created=1, started=1, done=0)  # the day before the range
    done_card(columns, created=1, started=1, done=29)  # the day after

    counts = [week["count"] for week in metrics.throughput_per_week(filters)]

    assert counts == [1, 0, 0, 0]
    assert [marker["id"] for marker in metrics.done_markers(filters)] == [
        card.pk for card in metrics.done_improvements(filters)
    ]


def test_done_markers_list_the_finished_cards_in_order(filters, columns):
    later = done_card(columns, created=1, started=1, done=9, title="Later")
    sooner = done_card(columns, created=1, started=1, done=3, title="Sooner")

    markers = metrics.done_markers(filters)

    assert markers == [
        {"id": sooner.pk, "title": "Sooner", "done_at": at(3)},
        {"id": later.pk, "title": "Later", "done_at": at(9)},
    ]


def test_flow_times_per_category_in_category_order(filters, columns):
    done_card(columns, created=1, started=2, done=5, category="tooling")
    done_card(columns, created=1, started=3, done=5, category="automate")
    done_card(columns, created=1, started=None, done=9, category="automate")

    figures = metrics.flow_times(filters)

    names = [row["category__name"] for row in figures["categories"]]
    assert names == ["Automate", "Tooling"]
    automate, tooling = figures["categories"]
    assert (automate["count"], automate["cycle_count"]) == (2, 1)
    assert automate["lead_median"] == pytest.approx(6)
    assert automate["cycle_median"] == pytest.approx(2)
    assert automate["category__colour"] == "#2563eb"
    assert (tooling["lead_median"], tooling["cycle_p85"]) == (pytest.approx(4), pytest.approx(3))
    assert figures["overall"]["count"] == 3
    assert figures["overall"]["lead_p85"] == pytest.approx(4 + 0.7 * 4)


def test_cumulative_flow_filtered_by_unit_counts_only_its_cards(columns):
    payments = UnitFactory(name="Payments")
    ideas, done = columns["Ideas"], columns["Done"]
    mine, theirs = ImprovementFactory(unit=payments), ImprovementFactory()
    create(mine, ideas, 1)
    create(theirs, ideas, 1)
    move(mine, ideas, done, 2)
    move(theirs, ideas, done, 3)
    days = Filters(START, START + datetime.timedelta(days=2), unit=payments, period="day")

    counts = {c["name"]: c["counts"] for c in metrics.cumulative_flow(days)["columns"]}

    assert counts["Ideas"] == [1, 0, 0]
    assert counts["Done"] == [0, 1, 1]


def test_cumulative_flow_filtered_by_category_counts_only_its_cards(columns):
    tooling = Category.objects.get(slug="tooling")
    ideas = columns["Ideas"]
    create(ImprovementFactory(category=tooling), ideas, 1)
    create(ImprovementFactory(), ideas, 1)
    days = Filters(START, START, category=tooling, period="day")

    flow = metrics.cumulative_flow(days)

    assert flow["periods"] == [START]
    ideas_row = next(c for c in flow["columns"] if c["name"] == "Ideas")
    assert (ideas_row["counts"], ideas_row["state"]) == ([1], "backlog")


def test_cumulative_flow_ignores_events_after_the_range(columns):
    ideas = columns["Ideas"]
    create(ImprovementFactory(), ideas, 1)
    create(ImprovementFactory(), ideas, 2)

    flow = metrics.cumulative_flow(Filters(START, START, period="day"))

    assert next(c for c in flow["columns"] if c["name"] == "Ideas")["counts"] == [1]


def test_ageing_work_leaves_out_archived_cards_and_keeps_to_the_limit(filters, columns):
    now = timezone.now()
    cards = [
        ImprovementFactory(
            column=columns["In progress"], column_entered_at=now - datetime.timedelta(days=n)
        )
        for n in (3, 2, 1)
    ]
    ImprovementFactory(
        column=columns["In progress"],
        column_entered_at=now - datetime.timedelta(days=30),
        archived_at=now,
    )

    assert metrics.ageing_work(filters) == cards
    assert metrics.ageing_work(filters, limit=2) == cards[:2]


def test_recurring_pains_are_cards_raised_by_two_retros_or_more(filters):
    first, second, third = (retro_in_week(START + datetime.timedelta(weeks=n)) for n in range(3))
    thrice = ImprovementFactory(title="Thrice", created_at=at(5))
    twice = ImprovementFactory(title="Twice", created_at=at(1))
    twice_later = ImprovementFactory(title="Twice later", created_at=at(2))
    once = ImprovementFactory(title="Once")
    archived = ImprovementFactory(title="Archived", archived_at=timezone.now())
    for card, retros in [
        (thrice, [first, second, third]),
        (twice, [first, second]),
        (twice_later, [second, third]),
        (once, [first, first]),
        (archived, [first, second]),
    ]:
        for retro in retros:
            link(FindingFactory(retro=retro), card)

    pains = metrics.recurring_pains(filters)

    assert [(card.title, card.recurrence) for card in pains] == [
        ("Thrice", 3),
        ("Twice", 2),
        ("Twice later", 2),
    ]
    assert metrics.recurring_pains(filters, limit=1) == [thrice]


def test_follow_through_of_an_empty_range_has_no_shares(filters):
    figures = metrics.follow_through(filters)

    assert (figures["findings"], figures["became"], figures["raised"]) == (0, 0, 0)
    assert figures["became_share"] is None
    assert figures["done_4_share"] is None and figures["done_8_share"] is None


def test_follow_through_counts_the_filtered_units_retros_only(columns):
    payments = UnitFactory(name="Payments")
    mine = retro_in_week(START, unit=payments)
    theirs = retro_in_week(START + datetime.timedelta(weeks=1))
    FindingFactory(retro=mine)
    FindingFactory(retro=theirs)
    FindingFactory(retro=theirs)

    figures = metrics.follow_through(Filters(START, END, unit=payments))

    assert figures["findings"] == 1


def test_follow_through_shares_of_cards_done_in_four_and_eight_weeks(columns):
    retro = retro_in_week(START)
    created = timezone.now() - datetime.timedelta(weeks=9)
    for weeks in (4, 8):
        card = ImprovementFactory(
            column=columns["Done"],
            created_at=created,
            done_at=created + datetime.timedelta(weeks=weeks),
        )
        link(FindingFactory(retro=retro), card)
    young = ImprovementFactory(created_at=timezone.now() - datetime.timedelta(weeks=5))
    link(FindingFactory(retro=retro), young)

    figures = metrics.follow_through(Filters(START, timezone.localdate()))

    assert figures["raised"] == 3
    assert (figures["done_4"], figures["old_4"], figures["done_4_share"]) == (1, 3, 1 / 3)
    assert (figures["done_8"], figures["old_8"], figures["done_8_share"]) == (2, 2, 1.0)


# --- XmR -----------------------------------------------------------------------------------------


def test_signal_count_counts_points_with_either_signal_once():
    chart = XmR(
        points=[
            {"outside": True, "run": False},
            {"outside": False, "run": True},
            {"outside": True, "run": True},
            {"outside": False, "run": False},
        ]
    )

    assert chart.signal_count == 3
    assert XmR().signal_count == 0


def test_limits_need_both_a_centre_and_a_moving_range():
    assert (XmR(centre=10).upper, XmR(centre=10).lower) == (None, None)
    assert (XmR(average_moving_range=2).upper, XmR(average_moving_range=2).lower) == (None, None)
    chart = XmR(centre=10, average_moving_range=2)
    assert (chart.upper, chart.lower) == (pytest.approx(15.32), pytest.approx(4.68))


def test_points_exactly_on_a_limit_are_inside():
    marks = metrics.mark_signals([20, 0, 21, -1], centre=10, lower=0, upper=20)

    assert [mark["outside"] for mark in marks] == [False, False, True, True]


def test_a_run_of_eight_ending_the_series_is_marked():
    marks = metrics.mark_signals([9] + [11] * 8, centre=10, lower=0, upper=20)

    assert [mark["run"] for mark in marks] == [False] + [True] * 8


def test_a_run_that_changes_side_starts_again():
    values = [11] * 5 + [9] * 8
    marks = metrics.mark_signals(values, centre=10, lower=0, upper=20)

    assert [mark["run"] for mark in marks] == [False] * 5 + [True] * 8


def test_a_chart_of_one_deployment_has_no_limits_and_no_signals(filters):
    only = deploy(1, 40)

    chart = metrics.xmr_chart(filters)

    assert chart.upper is None and chart.signal_count == 0
    assert chart.points == [
        {"id": only.pk, "at": only.started_at, "value": 40, "outside": False, "run": False}
    ]


def test_a_chart_point_carries_its_deployment(filters):
    first = deploy(1, 10)
    second = deploy(2, 30)

    points = metrics.xmr_chart(filters).points

    assert [(p["id"], p["at"], p["value"]) for p in points] == [
        (first.pk, first.started_at, 10),
        (second.pk, second.started_at, 30),
    ]


def test_a_chart_counts_its_signals(filters):
    for day, minutes in enumerate([10, 12, 11, 13, 30], start=1):
        deploy(day, minutes)

    assert metrics.xmr_chart(filters).signal_count == 1


def test_deployments_at_the_same_moment_are_charted_in_the_order_they_were_stored(filters):
    moment = at(1)
    ids = [
        DeploymentFactory(started_at=moment, finished_at=moment + datetime.timedelta(minutes=m)).pk
        for m in (5, 50, 20)
    ]

    chart = metrics.xmr_chart(filters)

    assert [point["id"] for point in chart.points] == ids
    # Moving ranges in that order: 45 and 30.
    assert chart.average_moving_range == pytest.approx(37.5)


def test_a_chart_shows_the_latest_500_deployments(filters):
    start = filters.start_at
    Deployment.objects.bulk_create(
        Deployment(
            started_at=start + datetime.timedelta(minutes=n),
            finished_at=start + datetime.timedelta(minutes=n + 1),
            elapsed_minutes=n,
        )
        for n in reversed(range(metrics.XMR_MAX_POINTS + 1))  # stored newest first
    )

    chart = metrics.xmr_chart(filters)

    assert len(chart.points) == 500
    assert chart.points[0]["value"] == 1 and chart.points[-1]["value"] == 500
    assert chart.centre == pytest.approx(250.5)
    assert chart.average_moving_range == pytest.approx(1)


# --- Blocked share and manual steps --------------------------------------------------------------


def test_blocked_share_names_each_week(filters):
    deploy(1, 30, blocked_minutes=1)

    weeks = metrics.blocked_share_per_week(filters)

    assert [week["week"] for week in weeks] == filters.weeks()
    assert weeks[0] == {
        "week": START,
        "total": 1,
        "blocked": 1,
        "restarted": 0,
        "either": 1,
        "share": 1.0,
    }
    assert weeks[1] == {
        "week": START + datetime.timedelta(weeks=1),
        "total": 0,
        "blocked": 0,
        "restarted": 0,
        "either": 0,
        "share": None,
    }


def test_manual_steps_ignore_changes_before_the_range_and_between_other_modes(filters):
    step = ProcessStepFactory(mode=ProcessStep.Mode.MANUAL)
    ProcessStepChange.objects.create(
        step=step, old_mode="automated", new_mode="manual", changed_at=at(-3)
    )
    ProcessStepChange.objects.create(
        step=step, old_mode="semi", new_mode="manual", changed_at=at(9)
    )
    ProcessStepChange.objects.create(
        step=ProcessStepFactory(mode=ProcessStep.Mode.DROPPED),
        old_mode="automated",
        new_mode="dropped",
        changed_at=at(10),
    )

    weeks = metrics.manual_steps_over_time(filters)

    assert weeks == [{"week": week, "manual": 1} for week in filters.weeks()]


def test_manual_steps_undo_changes_made_after_the_range(db):
    step = ProcessStepFactory(mode=ProcessStep.Mode.AUTOMATED)
    ProcessStepChange.objects.create(
        step=step, old_mode="manual", new_mode="automated", changed_at=at(20)
    )

    weeks = metrics.manual_steps_over_time(Filters(START, START + datetime.timedelta(days=6)))

    assert weeks == [{"week": START, "manual": 1}]


def test_manual_steps_follow_the_recorded_modes_when_the_history_has_a_gap(filters):
    # The step went manual -> semi-automatic in week 2 and is automated now, but the change
    # that automated it is gone (history rows can be edited and deleted in the admin). Each
    # change says what the step was before it, so week 1 ended with it manual and weeks 2 to 4
    # with it automated. Summing each change's own old/new (the dashboard's rule until the two
    # were unified) counted it as never manual: its one change stayed inside "manual".
    step = ProcessStepFactory(mode=ProcessStep.Mode.AUTOMATED)
    ProcessStepChange.objects.create(
        step=step, old_mode="manual", new_mode="semi", changed_at=at(9)
    )

    weeks = metrics.manual_steps_over_time(filters)

    assert [w["manual"] for w in weeks] == [1, 0, 0, 0]


def test_the_dashboard_and_the_process_page_count_the_same_manual_steps(filters):
    from retros.views.deployments import process_history

    automated = ProcessStepFactory(mode=ProcessStep.Mode.AUTOMATED)
    ProcessStepFactory(mode=ProcessStep.Mode.SEMI_AUTOMATIC)
    ProcessStepChange.objects.create(
        step=automated, old_mode="manual", new_mode="automated", changed_at=at(9)
    )
    # Dropped and taken back in the same week: the week ends with it manual.
    again = ProcessStepFactory(mode=ProcessStep.Mode.MANUAL)
    ProcessStepChange.objects.create(
        step=again, old_mode="manual", new_mode="dropped", changed_at=at(16)
    )
    ProcessStepChange.objects.create(
        step=again, old_mode="dropped", new_mode="manual", changed_at=at(17)
    )

    dashboard = [w["manual"] for w in metrics.manual_steps_over_time(filters)]
    page = [row["manual_steps"] for row in reversed(process_history(4, today=END))]

    assert dashboard == page == [3, 2, 2, 2]


# --- DORA ----------------------------------------------------------------------------------------


def test_dora_gives_each_week_its_deployments_failures_and_rate(filters):
    deploy(1, 30)
    deploy(2, 30, result=Deployment.Result.FAILURE)
    deploy(3, 30, result=Deployment.Result.ROLLED_BACK)
    deploy(4, 30, result=Deployment.Result.ABORTED)
    deploy(5, 30, environment="staging")
    deploy(9, 30)

    figures = metrics.dora(filters)

    assert figures["weeks"] == [
        {"week": START, "deployments": 3, "failed": 2, "rate": pytest.approx(2 / 3)},
        {"week": START + datetime.timedelta(weeks=1), "deployments": 1, "failed": 0, "rate": 0},
        {"week": START + datetime.timedelta(weeks=2), "deployments": 0, "failed": 0, "rate": None},
        {"week": START + datetime.timedelta(weeks=3), "deployments": 0, "failed": 0, "rate": None},
    ]
    assert (figures["deployments"], figures["failed"]) == (4, 2)
    assert figures["per_day"] == pytest.approx(4 / 28)
    assert figures["per_week"] == pytest.approx(1)
    assert (figures["frequency_band"], figures["failure_band"]) == ("high", "low")
    assert figures["failure_rate"] == pytest.approx(0.5)


def test_dora_of_the_filtered_unit(columns):
    payments = UnitFactory(name="Payments")
    DutyWeekFactory(week_start=START, unit=payments)
    deploy(1, 30)
    deploy(8, 30, result=Deployment.Result.FAILURE)

    figures = metrics.dora(Filters(START, END, unit=payments))

    assert (figures["deployments"], figures["failed"], figures["failure_band"]) == (1, 0, "elite")


# --- Before and after an improvement -------------------------------------------------------------


def test_cards_whose_windows_partly_overlap_each_get_their_own(filters, columns):
    minutes = [10, 20, 30, 40, 50, 60, 70, 80]
    for day, value in enumerate(minutes, start=1):
        deploy(day, value)
    # Deployments start at 9:00, cards are done at noon: 3 deployments before the first, 5
    # before the second, so their windows (1-6 and 3-8) overlap.
    first = done_card(columns, created=1, started=1, done=3, expected_effect="Faster")
    second = done_card(columns, created=1, started=1, done=5, expected_effect="Faster")

    rows = {row["improvement"]: row for row in metrics.effects(Filters(START, END, window=3))}

    # First: deployments 1-3 before (10, 20, 30), 4-6 after (40, 50, 60).
    assert (rows[first]["median_before"], rows[first]["median_after"]) == (20, 50)
    assert (rows[first]["before_count"], rows[first]["after_count"]) == (3, 3)
    # Second: 3-5 before (30, 40, 50), 6-8 after (60, 70, 80).
    assert (rows[second]["median_before"], rows[second]["median_after"]) == (40, 70)
    assert (rows[second]["before_count"], rows[second]["after_count"]) == (3, 3)


def test_cards_far_apart_read_only_their_own_windows(filters, columns):
    for day in range(1, 21):
        deploy(day, day)
    early = done_card(columns, created=1, started=1, done=3, expected_effect="Faster")  # after 3
    late = done_card(columns, created=1, started=1, done=17, expected_effect="Faster")  # after 17

    rows = {row["improvement"]: row for row in metrics.effects(Filters(START, END, window=2))}

    assert (rows[early]["median_before"], rows[early]["median_after"]) == (2.5, 4.5)
    assert (rows[late]["median_before"], rows[late]["median_after"]) == (16.5, 18.5)


def test_merged_ranges_join_overlapping_and_touching_ranges_only():
    assert metrics._merge_ranges([(5, 8), (1, 3), (4, 4), (10, 12), (11, 20), (30, 25)]) == [
        (1, 8),
        (10, 20),
    ]
    assert metrics._merge_ranges([(1, 10), (2, 3)]) == [(1, 10)]
    assert metrics._merge_ranges([(1, 2), (4, 5)]) == [(1, 2), (4, 5)]
    assert metrics._merge_ranges([]) == []


def test_only_cards_with_a_step_or_an_expected_effect_are_compared_newest_first(filters, columns):
    step = ProcessStepFactory()
    newer = done_card(columns, created=1, started=1, done=5, expected_effect="Faster")
    older = done_card(columns, created=1, started=1, done=3, target_step=step)
    done_card(columns, created=1, started=1, done=6)

    rows = metrics.effects(filters)

    assert [row["improvement"] for row in rows] == [newer, older]
    assert metrics.effects(Filters(START, START)) == []


def test_the_figure_follows_the_expected_effects_words(db):
    for words, figure in [
        ("Less hands-on work", "hands_on"),
        ("less handson", "hands_on"),
        ("Hands on time halves", "hands_on"),
        ("No more toil", "hands_on"),
        ("Less manual effort", "hands_on"),
        ("manual time down", "hands_on"),
        ("Faster deploys", "elapsed"),
        ("", "elapsed"),
    ]:
        assert metrics.effect_figure(ImprovementFactory.build(expected_effect=words)) == figure


def test_events_without_a_column_do_not_count_in_the_flow(columns):
    card = ImprovementFactory()
    create(card, columns["Ideas"], 1)
    Event.objects.create(improvement=card, kind=Event.Kind.EDITED, at=at(1))

    flow = metrics.cumulative_flow(Filters(START, START, period="day"))

    assert sum(sum(column["counts"]) for column in flow["columns"]) == 1


# --- Percentiles and small helpers ---------------------------------------------------------------


def test_a_percentile_takes_fractions_from_0_to_1_inclusive():
    assert metrics.Percentile("id", 0).fraction == 0.0
    assert metrics.Percentile("id", 1).fraction == 1.0
    assert metrics.Percentile("id", "0.25").fraction == 0.25
    with pytest.raises(ValueError, match="A percentile fraction lies between 0 and 1"):
        metrics.Percentile("id", -0.01)
    assert "fraction=0.85" in repr(metrics.Percentile("id", 0.85))


def test_the_database_percentiles_interpolate_between_the_values(db):
    for minutes in (10, 20, 40):
        deploy(1, minutes)

    figures = Deployment.objects.aggregate(
        low=metrics.Percentile("elapsed_minutes", 0),
        middle=metrics.Percentile("elapsed_minutes", 0.5),
        p75=metrics.Percentile("elapsed_minutes", 0.75),
        high=metrics.Percentile("elapsed_minutes", 1),
    )

    assert figures == {"low": 10, "middle": 20, "p75": 30, "high": 40}


def test_days_between_two_times_is_a_fraction_of_days(columns):
    card = done_card(columns, created=1, started=1, done=3)
    Improvement.objects.filter(pk=card.pk).update(done_at=at(3, hour=18))

    (days,) = Improvement.objects.annotate(
        days=metrics.DaysBetween("done_at", "created_at")
    ).values_list("days", flat=True)

    assert days == pytest.approx(2.25)


def test_the_sqlite_percentile_skips_empty_values():
    aggregate = metrics.SQLitePercentile()
    assert aggregate.finalize() is None
    for value in (None, 3, 1):
        aggregate.step(value, 0.9)

    assert aggregate.finalize() == pytest.approx(2.8)
    assert metrics.percentile_cont([None, 5], 0.3) == 5


def test_database_dates_and_times_become_local_dates(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    late = datetime.datetime(2025, 3, 5, 23, 30, tzinfo=datetime.UTC)

    assert metrics._as_date(datetime.date(2025, 3, 5)) == datetime.date(2025, 3, 5)
    assert metrics._as_date(late.replace(tzinfo=None)) == datetime.date(2025, 3, 5)
    assert metrics._as_date(late) == datetime.date(2025, 3, 6)


def test_windows_follow_start_times_not_the_order_deployments_were_stored(filters, columns):
    for day in (6, 5, 4, 3, 2, 1):  # stored newest first, as a backfill might
        deploy(day, day * 10)
    first = done_card(columns, created=1, started=1, done=3, expected_effect="Faster")

    (alone,) = metrics.effects(Filters(START, END, window=3))
    second = done_card(columns, created=1, started=1, done=5, expected_effect="Faster")
    rows = {row["improvement"]: row for row in metrics.effects(Filters(START, END, window=3))}

    # Three deployments before day 3's noon (10, 20, 30), three after (40, 50, 60).
    assert (alone["median_before"], alone["median_after"]) == (20, 50)
    assert (rows[first]["median_before"], rows[first]["median_after"]) == (20, 50)
    assert (rows[second]["median_before"], rows[second]["median_after"]) == (40, 60)


def test_a_point_on_the_centre_line_breaks_a_run_below_it_too():
    marks = metrics.mark_signals([9] * 4 + [10] + [9] * 3, centre=10, lower=0, upper=20)

    assert not any(mark["run"] for mark in marks)


def test_ageing_work_lists_twenty_cards_by_default(filters, columns):
    ImprovementFactory.create_batch(21, column=columns["In progress"])

    assert len(metrics.ageing_work(filters)) == 20


def test_wip_leaves_out_cards_finished_long_ago_as_the_board_does(filters, columns):
    ImprovementFactory(column=columns["Done"])
    ImprovementFactory(column=columns["Done"], column_entered_at=at(-400))

    rows = {row["name"]: row for row in metrics.wip_per_column(filters)}

    assert rows["Done"]["count"] == 1


# --- Found by the mutation run on the current code ------------------------------------------------


def test_ten_recurring_pains_are_shown_the_oldest_first_among_equals(filters):
    first, second = retro_in_week(START), retro_in_week(START + datetime.timedelta(weeks=1))
    # Created newest first, so the table's own order says nothing about their age.
    cards = [ImprovementFactory(title=f"Pain {n}", created_at=at(12 - n)) for n in range(11)]
    for card in cards:
        link(FindingFactory(retro=first), card)
        link(FindingFactory(retro=second), card)

    pains = metrics.recurring_pains(filters)

    assert pains == cards[:0:-1]  # the newest one is the eleventh: left out


def test_follow_through_counts_only_the_ranges_retros_and_cards_raised_in_it(columns):
    for monday in (START - datetime.timedelta(weeks=1), END + datetime.timedelta(days=1)):
        outside = retro_in_week(monday)
        FindingFactory(retro=outside, kind=Finding.Kind.PAIN)
    inside = retro_in_week(START + datetime.timedelta(weeks=3))
    FindingFactory(retro=inside, kind=Finding.Kind.IDEA)
    for created in (at(1), at(28), at(0), at(29)):
        link(
            FindingFactory(retro=inside, kind=Finding.Kind.PAIN),
            ImprovementFactory(created_at=created),
        )
    ImprovementFactory(created_at=at(2))  # raised by no retro

    figures = metrics.follow_through(Filters(START, END))

    assert figures["findings"] == 5  # the idea and the four pains linked: the inside retro only
    assert figures["became"] == 4
    assert figures["raised"] == 2  # created on the first and the last day of the range, linked


def test_slipped_actions_list_the_most_slipped_first_and_fifty_at_most(filters, columns):
    retros = [retro_in_week(START + datetime.timedelta(weeks=n)) for n in range(4)]
    # Created in another order than the one expected.
    two = ImprovementFactory(title="Raised in week 1: two later retros")
    first = ImprovementFactory(title="Raised in week 0: three later retros")
    second = ImprovementFactory(title="Also raised in week 0, created after")
    link(FindingFactory(retro=retros[1]), two)
    link(FindingFactory(retro=retros[0]), first)
    link(FindingFactory(retro=retros[2]), first)  # raised again: still counted from week 0
    link(FindingFactory(retro=retros[0]), second)

    slipped = metrics.slipped_actions(filters)

    assert [(card, card.later_retros) for card in slipped] == [(first, 3), (second, 3), (two, 2)]
    for n in range(48):
        link(FindingFactory(retro=retros[1]), ImprovementFactory(title=f"Also slipped {n}"))
    assert len(metrics.slipped_actions(filters)) == 50
    assert metrics.slipped_actions(filters)[:2] == [first, second]


def test_flow_times_list_categories_in_board_order_then_by_name(filters, columns):
    # Positions put "Zeta" first; "Alpha" and "Beta" share a position, so their names decide.
    for name, position in [("Beta", 2), ("Zeta", 1), ("Alpha", 2)]:
        category = CategoryFactory(name=name, slug=name.lower(), position=position)
        done_card(columns, created=1, started=2, done=3, category=category.slug)

    figures = metrics.flow_times(filters)

    assert [row["category__name"] for row in figures["categories"]] == ["Zeta", "Alpha", "Beta"]
