"""The dashboard's first screen: is it getting better? Six figures, each with its trend since
the range's start, a sparkline of its weekly values and the XmR signal of those values.

Built from the same rules as the panels below it (metrics.Percentile, metrics.mark_signals,
metrics.manual_steps_over_time, the DORA failure rule), in a fixed number of queries.
"""

import datetime
import statistics
from dataclasses import dataclass, field

from django.db.models import Aggregate, Count, DateField, Q
from django.db.models.functions import Trunc
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from retros.models import Deployment

from . import metrics

# "Then" is the first four weeks from the range's start, "now" the last four weeks up to its
# end (halves of a range shorter than eight weeks).
WINDOW_DAYS = 28
# A change smaller than this share of the old value reads as "about the same".
SAME_SHARE = 0.05
# Signals in the latest weeks are news; older ones are history the sparkline already shows.
RECENT_WEEKS = 3


@dataclass
class Figure:
    key: str
    title: str
    unit: str
    lower_is_better: bool
    panel: str
    weekly: list[float | None]
    then: float | None
    now: float | None
    digits: int = 0
    week_count: int = 0
    signal: dict = field(default_factory=dict)
    points: list[dict] = field(default_factory=list)

    @property
    def unit_text(self) -> str:
        """The unit as read after the value now: "1 card", "2 cards"."""
        if self.now == 1 and self.digits == 0 and self.unit.endswith("s"):
            return self.unit[:-1]
        return self.unit

    @property
    def change(self) -> float | None:
        if self.then is None or self.now is None:
            return None
        return self.now - self.then

    @property
    def change_percent(self) -> int | None:
        if self.change is None or not self.then:
            return None
        return round(abs(self.change) / abs(self.then) * 100)

    @property
    def direction(self) -> str:
        """better, worse, same, or unknown (a side without data)."""
        if self.change is None:
            return "unknown"
        if abs(self.change) <= SAME_SHARE * abs(self.then or 0) or self.change == 0:
            return "same"
        went_down = self.change < 0
        return "better" if went_down == self.lower_is_better else "worse"

    def show(self, value: float | None) -> str:
        if value is None:
            return "–"
        return f"{value:,.{self.digits}f}"

    @property
    def now_text(self) -> str:
        return self.show(self.now)

    @property
    def then_text(self) -> str:
        return self.show(self.then)

    @property
    def sparkline(self) -> SafeString:
        return sparkline(self.points, f"{self.title}, week by week", self.week_count)


def _window_days(filters: metrics.Filters) -> int:
    return min(WINDOW_DAYS, max(1, filters.days // 2))


def _windows(filters: metrics.Filters) -> tuple[tuple, tuple]:
    """("then", "now") as half-open (start, end) moments."""
    days = datetime.timedelta(days=_window_days(filters))

    def moment(day: datetime.date) -> datetime.datetime:
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))

    after_end = filters.end + datetime.timedelta(days=1)
    return (moment(filters.start), moment(filters.start + days)), (
        moment(after_end - days),
        moment(after_end),
    )


def _deployment_figures(filters: metrics.Filters, then: tuple, now: tuple) -> dict:
    """Two queries: the weekly medians and failure counts, and the same over "then" and "now"."""
    production = Q(environment=Deployment.Environment.PRODUCTION) & ~Q(
        result=Deployment.Result.ABORTED
    )
    failed = production & Q(result__in=metrics.FAILED_RESULTS)

    def figures(within: Q | None = None) -> dict[str, Aggregate]:
        def only(condition: Q | None) -> Q | None:
            if within is None:
                return condition
            return within if condition is None else within & condition

        return {
            "elapsed": metrics.Percentile("elapsed_minutes", 0.5, filter=only(None)),
            "hands_on": metrics.Percentile("hands_on_minutes", 0.5, filter=only(None)),
            "production": Count("id", filter=only(production)),
            "failed": Count("id", filter=only(failed)),
        }

    deployments = filters.deployments()
    weekly = {
        metrics._as_date(row["week"]): row
        for row in deployments.annotate(week=Trunc("started_at", "week", output_field=DateField()))
        .values("week")
        .annotate(**figures())
    }
    windows: dict[str, Aggregate] = {}
    for name, (start, end) in (("then", then), ("now", now)):
        within = Q(started_at__gte=start, started_at__lt=end)
        windows |= {f"{name}_{key}": value for key, value in figures(within).items()}
    return {"weekly": weekly, "windows": deployments.aggregate(**windows)}


def _card_figures(filters: metrics.Filters, then: tuple, now: tuple) -> dict:
    """Two queries: cards done and median cycle time per week, and over "then" and "now"."""
    cycle = metrics.DaysBetween("done_at", "started_at")
    started = Q(started_at__isnull=False)
    done = metrics.done_improvements(filters)
    weekly = {
        metrics._as_date(row["week"]): row
        for row in done.annotate(week=Trunc("done_at", "week", output_field=DateField()))
        .values("week")
        .annotate(done=Count("id"), cycle=metrics.Percentile(cycle, 0.5, filter=started))
    }
    windows: dict[str, Aggregate] = {}
    for name, (start, end) in (("then", then), ("now", now)):
        within = Q(done_at__gte=start, done_at__lt=end)
        windows[f"{name}_done"] = Count("id", filter=within)
        windows[f"{name}_cycle"] = metrics.Percentile(cycle, 0.5, filter=within & started)
    return {"weekly": weekly, "windows": done.aggregate(**windows)}


def _rate(failed: int, total: int) -> float | None:
    return failed / total * 100 if total else None


def xmr_signal(values: list[float | None], lower_is_better: bool) -> tuple[dict, list[dict]]:
    """The XmR reading of a weekly series (weeks without data left out): whether its latest
    weeks signal, which way, and the marks per point for the sparkline."""
    known = [(index, value) for index, value in enumerate(values) if value is not None]
    numbers = [value for _, value in known]
    if len(numbers) < 4:
        return {"kind": "none", "text": "Too few weeks for limits"}, [
            {"index": index, "value": value, "signal": False} for index, value in known
        ]
    centre = statistics.fmean(numbers)
    moving = statistics.fmean(abs(b - a) for a, b in zip(numbers, numbers[1:], strict=False))
    upper, lower = centre + metrics.XMR_SCALING * moving, centre - metrics.XMR_SCALING * moving
    marks = metrics.mark_signals(numbers, centre, lower, upper)
    points = [
        {"index": index, "value": value, "signal": mark["outside"] or mark["run"]}
        for (index, value), mark in zip(known, marks, strict=True)
    ]
    recent = [point for point in points[-RECENT_WEEKS:] if point["signal"]]
    if not recent:
        return {"kind": "routine", "text": "No signal: routine variation"}, points
    latest = recent[-1]
    lower_now = latest["value"] < centre
    good = lower_now == lower_is_better
    how = "below" if lower_now else "above"
    return {
        "kind": "better" if good else "worse",
        "text": f"Signal: {how} its usual level ({'better' if good else 'worse'})",
    }, points


def sparkline(points: list[dict], label: str, weeks: int | None = None) -> SafeString:
    """A small SVG line of the weekly values; signalling weeks as red dots. Numbers only go
    into the markup, and the label is escaped."""
    if not points:
        return format_html('<span class="spark-empty muted small">{}</span>', "no data")
    width, height, pad = 120, 32, 3
    count = weeks or max(point["index"] for point in points) + 1
    values = [point["value"] for point in points]
    low, high = min(values), max(values)
    spread = (high - low) or 1

    def x(index: int) -> float:
        return pad + (width - 2 * pad) * (index / max(1, count - 1))

    def y(value: float) -> float:
        return pad + (height - 2 * pad) * (1 - (value - low) / spread)

    line = " ".join(f"{x(p['index']):.1f},{y(p['value']):.1f}" for p in points)
    dots = "".join(
        f'<circle cx="{x(p["index"]):.1f}" cy="{y(p["value"]):.1f}" r="2.2" class="signal"/>'
        for p in points
        if p["signal"]
    )
    last = points[-1]
    return format_html(
        '<svg class="spark" viewBox="0 0 {} {}" width="{}" height="{}" role="img" '
        'aria-label="{}">{}</svg>',
        width,
        height,
        width,
        height,
        label,
        mark_safe(  # noqa: S308 - built from numbers only
            f'<polyline points="{line}" class="line"/>{dots}'
            f'<circle cx="{x(last["index"]):.1f}" cy="{y(last["value"]):.1f}" r="2.4" '
            'class="last"/>'
        ),
    )


def headline(filters: metrics.Filters) -> dict:
    """The six figures over the dashboard's range. Six queries."""
    then, now = _windows(filters)
    deployments = _deployment_figures(filters, then, now)
    cards = _card_figures(filters, then, now)
    manual = metrics.manual_steps_over_time(filters)
    weeks = filters.weeks()
    d_weekly, d = deployments["weekly"], deployments["windows"]
    c_weekly, c = cards["weekly"], cards["windows"]

    def weekly(source: dict, key: str) -> list:
        return [source[week][key] if week in source else None for week in weeks]

    def week_rate(week: datetime.date) -> float | None:
        row = d_weekly.get(week)
        return _rate(row["failed"], row["production"]) if row else None

    figures = [
        Figure(
            "elapsed",
            "Median deployment minutes",
            "min",
            True,
            "elapsed",
            weekly(d_weekly, "elapsed"),
            d["then_elapsed"],
            d["now_elapsed"],
        ),
        Figure(
            "hands-on",
            "Median hands-on minutes",
            "min",
            True,
            "hands-on",
            weekly(d_weekly, "hands_on"),
            d["then_hands_on"],
            d["now_hands_on"],
        ),
        Figure(
            "manual-steps",
            "Manual steps left",
            "steps",
            True,
            "manual-steps",
            [row["manual"] for row in manual],
            manual[0]["manual"] if manual else None,
            manual[-1]["manual"] if manual else None,
        ),
        Figure(
            "failure-rate",
            "Change failure rate",
            "%",
            True,
            "dora",
            [week_rate(week) for week in weeks],
            _rate(d["then_failed"], d["then_production"]),
            _rate(d["now_failed"], d["now_production"]),
        ),
        Figure(
            "done",
            "Cards done",
            "cards",
            False,
            "throughput",
            [c_weekly[week]["done"] if week in c_weekly else 0 for week in weeks],
            c["then_done"],
            c["now_done"],
        ),
        Figure(
            "cycle",
            "Median cycle time",
            "days",
            True,
            "flow-times",
            weekly(c_weekly, "cycle"),
            c["then_cycle"],
            c["now_cycle"],
            digits=1,
        ),
    ]
    for figure in figures:
        figure.signal, figure.points = xmr_signal(figure.weekly, figure.lower_is_better)
        figure.week_count = len(weeks)
    return {
        "figures": figures,
        "since": filters.start,
        "window_days": _window_days(filters),
        "weeks": len(weeks),
        "better": sum(1 for f in figures if f.direction == "better"),
        "worse": sum(1 for f in figures if f.direction == "worse"),
    }
