"""The dashboard's first screen: six figures, their trend since the range's start, a
sparkline and the XmR signal of each."""

import datetime

from django.urls import reverse
from django.utils import timezone

from improvements.reporting import metrics
from improvements.reporting.headline import headline, sparkline, xmr_signal
from tests.factories import DeploymentFactory


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def deploy(day: datetime.date, minutes: int, hands_on: int = 10, **fields):
    started = at(day)
    return DeploymentFactory(
        started_at=started,
        finished_at=started + datetime.timedelta(minutes=minutes),
        hands_on_minutes=hands_on,
        **fields,
    )


def test_the_dashboard_opens_with_six_headline_figures(outsider_client):
    page = outsider_client.get(reverse("reporting:dashboard")).content.decode()
    assert "Is it getting better?" in page
    assert page.count('class="headline-figure direction-') == 6
    for title in ("Median deployment minutes", "Manual steps left", "Change failure rate"):
        assert title in page
    assert page.index("Is it getting better?") < page.index('id="section-flow"')


def test_deployment_minutes_compare_the_first_and_last_four_weeks(db):
    filters = metrics.Filters(start=datetime.date(2026, 1, 5), end=datetime.date(2026, 3, 29))
    for day in range(10):
        deploy(filters.start + datetime.timedelta(days=day), 100, hands_on=60)
        deploy(filters.end - datetime.timedelta(days=day), 50, hands_on=20)
    deploy(datetime.date(2026, 2, 10), 500)  # the middle of the range counts in neither
    figures = {figure.key: figure for figure in headline(filters)["figures"]}
    elapsed = figures["elapsed"]
    assert (elapsed.then, elapsed.now) == (100, 50)
    assert elapsed.direction == "better" and elapsed.change_percent == 50
    assert (figures["hands-on"].then, figures["hands-on"].now) == (60, 20)


def test_a_higher_failure_rate_reads_as_worse(db):
    filters = metrics.Filters(start=datetime.date(2026, 1, 5), end=datetime.date(2026, 3, 29))
    for day in range(4):
        deploy(filters.start + datetime.timedelta(days=day), 30, environment="production")
        deploy(
            filters.end - datetime.timedelta(days=day),
            30,
            environment="production",
            result="failure" if day < 2 else "success",
        )
    rate = {f.key: f for f in headline(filters)["figures"]}["failure-rate"]
    assert (rate.then, rate.now) == (0, 50)
    assert rate.direction == "worse"


def test_the_headline_costs_the_same_queries_for_many_deployments(db, django_assert_num_queries):
    filters = metrics.Filters.default()
    deploy(filters.end, 40)
    with django_assert_num_queries(6):
        headline(filters)
    for day in range(40):
        deploy(filters.end - datetime.timedelta(days=day), 40 + day)
    with django_assert_num_queries(6):
        headline(filters)


def test_a_step_down_in_the_latest_weeks_is_a_signal_for_the_better():
    values = [100, 104, 98, 101, 99, 103, 97, 100, 60, 58, 62, 59, 61, 57, 60, 58]
    signal, points = xmr_signal(values, lower_is_better=True)
    assert signal["kind"] == "better" and "below" in signal["text"]
    assert points[-1]["signal"]


def test_routine_variation_is_no_signal():
    signal, points = xmr_signal([10, 12, 9, 11, 10, 13, 9, 11], lower_is_better=True)
    assert signal["kind"] == "routine"
    assert not any(point["signal"] for point in points)


def test_a_few_weeks_are_too_few_for_limits():
    signal, _ = xmr_signal([10, None, 12, 9], lower_is_better=True)
    assert signal["kind"] == "none"


def test_a_sparkline_escapes_its_label_and_marks_signals():
    svg = sparkline(
        [{"index": 0, "value": 5, "signal": False}, {"index": 1, "value": 1, "signal": True}],
        '<script>"x"</script>',
        weeks=2,
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert svg.count('class="signal"') == 1 and 'role="img"' in svg


def test_an_xmr_panel_draws_a_negative_lower_limit_at_zero_and_says_why(outsider_client):
    for day, minutes in enumerate([5, 60, 2, 70, 3, 65]):
        deploy(timezone.localdate() - datetime.timedelta(days=day + 1), minutes)
    page = outsider_client.get(
        reverse("reporting:dashboard_panel", args=["elapsed"])
    ).content.decode()
    assert "minutes cannot be negative, so it is drawn at 0" in page
    assert '"label": "Lower limit", "y": 0' in page
    assert "A red point is a signal" in page


def test_the_flow_times_panel_names_its_percentile_method(outsider_client):
    page = outsider_client.get(
        reverse("reporting:dashboard_panel", args=["flow-times"])
    ).content.decode()
    assert "by linear interpolation" in page
