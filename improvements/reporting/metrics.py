"""Dashboard figures: flow metrics, percentiles, XmR limits and signals, DORA bands, effects.

Each function takes the dashboard's filters and runs a fixed number of queries whatever the
data size: the counting, summing and percentiles happen in the database, and Python only
walks the small grouped results (one row per week, column or card shown).
"""

import bisect
import datetime
import math
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    Aggregate,
    Avg,
    Case,
    Count,
    DateField,
    Exists,
    F,
    FloatField,
    Func,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.expressions import Expression
from django.db.models.functions import Abs, Lag, RowNumber, Trunc
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone

from retros.models import (
    Deployment,
    Finding,
    ProcessStep,
    Retrospective,
    Unit,
)
from retros.weeks import monday_of

from ..models import Category, Column, Event, FindingLink, Improvement, ImprovementQuerySet
from . import effect_statistics
from .effect_statistics import HISTORY_DEPLOYMENTS, Outcome

# ---------------------------------------------------------------------------------------------
# Percentiles in the database
# ---------------------------------------------------------------------------------------------

SQLITE_PERCENTILE = "wb_percentile"


class Percentile(Aggregate):
    """The continuous percentile (linear interpolation), as PostgreSQL's percentile_cont.

    SQLite has no percentile function: improvements/apps.py registers `wb_percentile`, a
    Python aggregate with the same interpolation, on every new SQLite connection.
    """

    function = "PERCENTILE_CONT"
    name = "Percentile"
    arity = 1
    window_compatible = False
    output_field = FloatField()

    def __init__(self, expression: Expression | str, fraction: float, **extra: Any) -> None:
        fraction = float(fraction)
        if not 0 <= fraction <= 1:
            raise ValueError("A percentile fraction lies between 0 and 1.")
        self.fraction = fraction
        super().__init__(expression, **extra)

    # Aggregate.as_sql's own signature, narrower than Func's: django-stubs ignores it the same way.
    def as_sql(  # type: ignore[override]
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, tuple[Any, ...]]:
        # The fraction is a validated float, so it is safe to write into the SQL.
        template = (
            f"%(function)s({self.fraction!r}) WITHIN GROUP (ORDER BY %(expressions)s)%(filter)s"
        )
        return super().as_sql(compiler, connection, template=template, **extra_context)

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, tuple[Any, ...]]:
        template = f"%(function)s(%(expressions)s, {self.fraction!r})%(filter)s"
        return super().as_sql(
            compiler, connection, function=SQLITE_PERCENTILE, template=template, **extra_context
        )

    def _get_repr_options(self) -> dict[str, Any]:
        # Django's Aggregate has _get_repr_options; django-stubs does not declare it.
        return {**super()._get_repr_options(), "fraction": self.fraction}  # type: ignore[misc]


def percentile_cont(values: list[float], fraction: float) -> float | None:
    """percentile_cont over plain numbers: what the SQLite aggregate and the tests use."""
    ordered = sorted(value for value in values if value is not None)
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    lower = math.floor(position)
    upper = math.ceil(position)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


class SQLitePercentile:
    """SQLite's side of Percentile: collects the group's values, interpolates at the end."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.fraction = 0.5

    def step(self, value: float | None, fraction: float) -> None:
        if value is not None:
            self.values.append(value)
        self.fraction = fraction

    def finalize(self) -> float | None:
        return percentile_cont(self.values, self.fraction)


def register_sqlite_functions(
    sender: object, connection: BaseDatabaseWrapper, **kwargs: Any
) -> None:
    """connection_created receiver: teach a new SQLite connection `wb_percentile`."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate(SQLITE_PERCENTILE, 2, SQLitePercentile)


class DaysBetween(Func):
    """end - start in days, as a float, for two datetimes."""

    output_field = FloatField()
    arity = 2

    def as_sql(
        self,
        compiler: SQLCompiler,
        connection: BaseDatabaseWrapper,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> tuple[str, tuple[Any, ...]]:
        # Always this template and joiner: the difference of the two datetimes, in days.
        template = "(EXTRACT(EPOCH FROM (%(expressions)s)) / 86400.0)"
        return super().as_sql(
            compiler, connection, function, template=template, arg_joiner=" - ", **extra_context
        )

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, tuple[Any, ...]]:
        end, start = self.get_source_expressions()
        end_sql, end_params = compiler.compile(end)
        start_sql, start_params = compiler.compile(start)
        return f"(julianday({end_sql}) - julianday({start_sql}))", (*end_params, *start_params)

    def __init__(self, end: Expression | str, start: Expression | str, **extra: Any) -> None:
        super().__init__(end, start, **extra)


# ---------------------------------------------------------------------------------------------
# Filters
# ---------------------------------------------------------------------------------------------

DEFAULT_DAYS = 91
DEFAULT_WINDOW = 12  # deployments before and after, for "Did it help?"


@dataclass
class Filters:
    """What the dashboard is looking at: a date range (inclusive), a unit and a category."""

    start: datetime.date
    end: datetime.date
    unit: Unit | None = None
    category: Category | None = None
    window: int = DEFAULT_WINDOW
    period: str = "week"
    environment: str = Deployment.Environment.PRODUCTION  # the deployments "Did it help?" compares

    @classmethod
    def default(cls, **changes: Any) -> "Filters":
        today = timezone.localdate()
        values: dict[str, Any] = {
            "start": today - datetime.timedelta(days=DEFAULT_DAYS - 1),
            "end": today,
        }
        values.update(changes)
        return cls(**values)

    @property
    def start_at(self) -> datetime.datetime:
        return timezone.make_aware(datetime.datetime.combine(self.start, datetime.time.min))

    @property
    def end_at(self) -> datetime.datetime:
        """The first moment after the range: ranges are half-open in the queries."""
        next_day = self.end + datetime.timedelta(days=1)
        return timezone.make_aware(datetime.datetime.combine(next_day, datetime.time.min))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def improvements(self, queryset: ImprovementQuerySet | None = None) -> ImprovementQuerySet:
        queryset = Improvement.objects.all() if queryset is None else queryset
        if self.unit is not None:
            queryset = queryset.filter(unit=self.unit)
        if self.category is not None:
            queryset = queryset.filter(category=self.category)
        return queryset.order_by()

    def deployments(self, queryset: QuerySet | None = None) -> QuerySet:
        queryset = Deployment.objects.all() if queryset is None else queryset
        if self.unit is not None:
            queryset = queryset.filter(duty_week__unit=self.unit)
        return queryset.filter(started_at__gte=self.start_at, started_at__lt=self.end_at).order_by()

    def weeks(self) -> list[datetime.date]:
        """The Mondays of every week that touches the range."""
        monday, last = monday_of(self.start), monday_of(self.end)
        weeks = []
        while monday <= last:
            weeks.append(monday)
            monday += datetime.timedelta(weeks=1)
        return weeks


def _as_date(value: datetime.date) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


# ---------------------------------------------------------------------------------------------
# Improvement flow
# ---------------------------------------------------------------------------------------------


def wip_per_column(filters: Filters) -> list[dict]:
    """Cards per column now, as the board counts them (COUNT_RULE), against the WIP limit.

    Two queries: the columns, then the counts.
    """
    columns = list(Column.objects.all())
    finished = [column.pk for column in columns if column.is_finished]
    cards = filters.improvements(Improvement.objects.on_board(finished))
    counts = dict(
        cards.values_list("column").annotate(count=Count("id")).values_list("column", "count")
    )
    rows = []
    for column in columns:
        count = counts.get(column.pk, 0)
        rows.append(
            {
                "column": column,
                "name": column.name,
                "state": column.state,
                "count": count,
                "limit": column.wip_limit,
                "over_limit": column.wip_limit is not None and count > column.wip_limit,
            }
        )
    return rows


def done_improvements(filters: Filters) -> QuerySet:
    """Cards finished (in a done column, not dropped) within the range."""
    return filters.improvements().filter(
        column__state=Column.State.DONE,
        done_at__gte=filters.start_at,
        done_at__lt=filters.end_at,
    )


def throughput_per_week(filters: Filters) -> list[dict]:
    """Cards done per week (weeks start on Monday), with empty weeks as 0. One query."""
    counts = {
        _as_date(row["week"]): row["count"]
        for row in done_improvements(filters)
        .annotate(week=Trunc("done_at", "week", output_field=DateField()))
        .values("week")
        .annotate(count=Count("id"))
    }
    return [{"week": week, "count": counts.get(week, 0)} for week in filters.weeks()]


def _flow_time_aggregates() -> dict:
    lead = DaysBetween("done_at", "created_at")
    cycle = DaysBetween("done_at", "started_at")
    started = Q(started_at__isnull=False)
    return {
        "count": Count("id"),
        "lead_median": Percentile(lead, 0.5),
        "lead_p85": Percentile(lead, 0.85),
        "cycle_count": Count("id", filter=started),
        "cycle_median": Percentile(cycle, 0.5, filter=started),
        "cycle_p85": Percentile(cycle, 0.85, filter=started),
    }


def flow_times(filters: Filters) -> dict:
    """Lead time (created to done) and cycle time (started to done) in days, median and 85th
    percentile, over cards done in the range: overall and per category. Two queries."""
    done = done_improvements(filters)
    overall = done.aggregate(**_flow_time_aggregates())
    per_category = list(
        done.values("category__name", "category__colour")
        .annotate(**_flow_time_aggregates())
        .order_by("category__position", "category__name")
    )
    return {"overall": overall, "categories": per_category}


def _periods(filters: Filters) -> list[datetime.date]:
    if filters.period == "week":
        return filters.weeks()
    return [filters.start + datetime.timedelta(days=n) for n in range(filters.days)]


def cumulative_flow(filters: Filters) -> dict:
    """Cards in each column at the end of each period (day or week), from the card events.

    Every event with a `to_column` puts a card into that column and every event with a
    `from_column` takes it out, so a column's count at the end of a period is its entries
    minus its exits up to then. The database sums those per period and column (everything
    before the range into one opening bucket); Python adds up the running totals.
    Three queries: columns, entries, exits.
    """
    columns = list(Column.objects.all())
    events = Event.objects.filter(at__lt=filters.end_at).order_by()
    if filters.unit is not None:
        events = events.filter(improvement__unit=filters.unit)
    if filters.category is not None:
        events = events.filter(improvement__category=filters.category)
    opening = datetime.date(1900, 1, 1)
    bucket = Case(
        When(at__lt=filters.start_at, then=Value(opening)),
        default=Trunc("at", filters.period, output_field=DateField()),
        output_field=DateField(),
    )
    deltas: dict[tuple[datetime.date, int], int] = {}
    for column_field, sign in (("to_column", 1), ("from_column", -1)):
        rows = (
            events.filter(**{f"{column_field}__isnull": False})
            .annotate(bucket=bucket)
            .values("bucket", column_field)
            .annotate(count=Count("id"))
            .values_list("bucket", column_field, "count")
        )
        for day, column_id, count in rows:
            key = (_as_date(day), column_id)
            deltas[key] = deltas.get(key, 0) + sign * count

    periods = _periods(filters)
    running = {column.pk: deltas.get((opening, column.pk), 0) for column in columns}
    series: dict[int, list[int]] = {column.pk: [] for column in columns}
    for period in periods:
        for column in columns:
            running[column.pk] += deltas.get((period, column.pk), 0)
            series[column.pk].append(running[column.pk])
    return {
        "periods": periods,
        "columns": [
            {"name": column.name, "state": column.state, "counts": series[column.pk]}
            for column in columns
        ],
    }


def ageing_work(filters: Filters, limit: int = 20) -> list[Improvement]:
    """Open cards in active columns, longest in their current column first. One query."""
    return list(
        filters.improvements()
        .filter(archived_at__isnull=True, column__state=Column.State.ACTIVE)
        .select_related("column", "category", "assignee")
        .order_by("column_entered_at", "pk")[:limit]
    )


def recurring_pains(filters: Filters, limit: int = 10) -> list[Improvement]:
    """Cards raised by the most distinct retros (at least two). One query."""
    return list(
        filters.improvements()
        .filter(archived_at__isnull=True)
        .with_recurrence()
        # django-stubs cannot see the annotation a custom QuerySet method adds.
        .filter(recurrence__gte=2)  # type: ignore[misc]
        .select_related("column", "category")
        .order_by("-recurrence", "created_at")[:limit]
    )


# ---------------------------------------------------------------------------------------------
# Retro follow-through
# ---------------------------------------------------------------------------------------------


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def follow_through(filters: Filters) -> dict:
    """How retro findings turn into finished work. Two queries.

    - Pains and ideas of retros in the range (by duty week) that became, or joined, an
      improvement.
    - Improvements raised by a retro and created in the range: of those at least four (eight)
      weeks old, the share done within four (eight) weeks of being created.
    """
    findings = Finding.objects.filter(
        kind__in=[Finding.Kind.PAIN, Finding.Kind.IDEA],
        retro__duty_week__week_start__gte=filters.start,
        retro__duty_week__week_start__lte=filters.end,
    ).order_by()
    if filters.unit is not None:
        findings = findings.filter(retro__duty_week__unit=filters.unit)
    counted = findings.aggregate(
        findings=Count("id"),
        became=Count("id", filter=Q(link__isnull=False)),
    )

    now = timezone.now()
    raised = filters.improvements().filter(
        Exists(FindingLink.objects.filter(improvement=OuterRef("pk"))),
        created_at__gte=filters.start_at,
        created_at__lt=filters.end_at,
    )
    done = Q(column__state=Column.State.DONE)
    figures = {}
    for weeks in (4, 8):
        span = datetime.timedelta(weeks=weeks)
        old_enough = Q(created_at__lte=now - span)
        figures[f"old_{weeks}"] = Count("id", filter=old_enough)
        figures[f"done_{weeks}"] = Count(
            "id", filter=old_enough & done & Q(done_at__lte=F("created_at") + span)
        )
    counted.update(raised.aggregate(raised=Count("id"), **figures))
    counted["became_share"] = _share(counted["became"], counted["findings"])
    for weeks in (4, 8):
        counted[f"done_{weeks}_share"] = _share(counted[f"done_{weeks}"], counted[f"old_{weeks}"])
    return counted


def slipped_actions(filters: Filters, limit: int = 50) -> list[Improvement]:
    """Improvements raised by a retro, not finished, with two or more submitted retros held
    (by duty week) after the first retro that raised them. Three queries.

    The database finds each open card's first raising week (a grouped minimum) and lists
    the weeks of submitted retros (one a week at most); counting the later ones is a
    binary search per card.
    """
    first_weeks = dict(
        filters.improvements()
        .filter(archived_at__isnull=True)
        .exclude(column__state__in=[Column.State.DONE, Column.State.DROPPED])
        .annotate(first=Min("finding_links__finding__retro__duty_week__week_start"))
        .filter(first__isnull=False)
        .values_list("pk", "first")
    )
    if not first_weeks:
        return []
    retro_weeks = sorted(
        Retrospective.objects.filter(status=Retrospective.Status.SUBMITTED).values_list(
            "duty_week__week_start", flat=True
        )
    )
    later = {
        pk: len(retro_weeks) - bisect.bisect_right(retro_weeks, week)
        for pk, week in first_weeks.items()
    }
    slipped = sorted(
        (pk for pk, count in later.items() if count >= 2),
        key=lambda pk: (-later[pk], first_weeks[pk], pk),
    )[:limit]
    cards = Improvement.objects.select_related("column", "category", "unit").in_bulk(slipped)
    for pk in slipped:
        cards[pk].first_week = first_weeks[pk]
        cards[pk].later_retros = later[pk]
    return [cards[pk] for pk in slipped]


# ---------------------------------------------------------------------------------------------
# Deployment trends
# ---------------------------------------------------------------------------------------------

XMR_SCALING = 2.66
RUN_LENGTH = 8
FIGURES = {"elapsed": "elapsed_minutes", "hands_on": "hands_on_minutes"}


@dataclass
class XmR:
    """An individuals chart: points, centre line (the mean) and natural process limits."""

    points: list[dict] = field(default_factory=list)
    centre: float | None = None
    average_moving_range: float | None = None

    @property
    def upper(self) -> float | None:
        if self.centre is None or self.average_moving_range is None:
            return None
        return self.centre + XMR_SCALING * self.average_moving_range

    @property
    def lower(self) -> float | None:
        if self.centre is None or self.average_moving_range is None:
            return None
        return self.centre - XMR_SCALING * self.average_moving_range

    @property
    def signal_count(self) -> int:
        return sum(1 for point in self.points if point["outside"] or point["run"])


def mark_signals(values: list[float], centre: float, lower: float, upper: float) -> list[dict]:
    """The two standard signals per point: outside the limits, and part of a run of eight or
    more in a row on one side of the centre line (a point on the line breaks a run)."""
    marks = [{"outside": value > upper or value < lower, "run": False} for value in values]
    run_start, run_side = 0, 0
    for index, value in enumerate(values + [None]):
        side = 0 if value is None else (value > centre) - (value < centre)
        if side != run_side or side == 0:
            if run_side != 0 and index - run_start >= RUN_LENGTH:
                for inside in range(run_start, index):
                    marks[inside]["run"] = True
            run_start, run_side = index, side
    return marks


XMR_MAX_POINTS = 500


def xmr_chart(filters: Filters, figure: str = "elapsed") -> XmR:
    """The range's last XMR_MAX_POINTS deployments, oldest first, as an XmR chart of
    `figure` minutes (more points than that no longer read as points on a chart).

    Two queries: the points, and the mean and average moving range (|x - previous x|, by
    a window function) computed by the database over the same deployments.
    """
    column = FIGURES[figure]
    order = [F("started_at").asc(), F("id").asc()]
    latest = filters.deployments().order_by("-started_at", "-id").values("id")[:XMR_MAX_POINTS]
    deployments = Deployment.objects.filter(pk__in=Subquery(latest)).order_by()
    limits = deployments.annotate(
        previous=Window(Lag(column), order_by=order),
    ).aggregate(
        centre=Avg(column, output_field=FloatField()),
        average_moving_range=Avg(Abs(F(column) - F("previous")), output_field=FloatField()),
    )
    rows = list(deployments.order_by(*order).values("id", "started_at", column, "environment"))
    chart = XmR(centre=limits["centre"], average_moving_range=limits["average_moving_range"])
    if chart.centre is None or chart.upper is None or chart.lower is None:
        chart.points = [
            {
                "id": row["id"],
                "at": row["started_at"],
                "value": row[column],
                "outside": False,
                "run": False,
            }
            for row in rows
        ]
        return chart
    marks = mark_signals([row[column] for row in rows], chart.centre, chart.lower, chart.upper)
    chart.points = [
        {"id": row["id"], "at": row["started_at"], "value": row[column], **mark}
        for row, mark in zip(rows, marks, strict=True)
    ]
    return chart


def blocked_share_per_week(filters: Filters) -> list[dict]:
    """Per week: deployments, how many were blocked, restarted, either, and that share."""
    counts = {
        _as_date(row["week"]): row
        for row in filters.deployments()
        .annotate(week=Trunc("started_at", "week", output_field=DateField()))
        .values("week")
        .annotate(
            total=Count("id"),
            blocked=Count("id", filter=Q(blocked_minutes__gt=0)),
            restarted=Count("id", filter=Q(restarts__gt=0)),
            either=Count("id", filter=Q(blocked_minutes__gt=0) | Q(restarts__gt=0)),
        )
    }
    rows = []
    for week in filters.weeks():
        row = counts.get(week, {})
        total, either = row.get("total", 0), row.get("either", 0)
        rows.append(
            {
                "week": week,
                "total": total,
                "blocked": row.get("blocked", 0),
                "restarted": row.get("restarted", 0),
                "either": either,
                "share": _share(either, total),
            }
        )
    return rows


def manual_steps_over_time(filters: Filters) -> list[dict]:
    """Manual (or semi-automatic) process steps left at the end of each week. Two queries,
    by the process page's own rule (ProcessStepQuerySet.manual_left_by_week)."""
    left = ProcessStep.objects.manual_left_by_week(filters.weeks())
    return [{"week": week, "manual": left[week].steps} for week in filters.weeks()]


def done_markers(filters: Filters) -> list[dict]:
    """Every improvement finished in the range, to mark on the deployment charts."""
    return list(
        done_improvements(filters).order_by("done_at", "pk").values("id", "title", "done_at")
    )


# ---------------------------------------------------------------------------------------------
# DORA bands
# ---------------------------------------------------------------------------------------------

# The 2023 Accelerate State of DevOps report's clusters. Deployment frequency: elite deploys
# on demand (we count that as at least once a day on average), high between once a day and
# once a week, medium between once a week and once a month, low less often. Change failure
# rate: the clusters sit at 5 %, 10 %, 15 % and 64 %; we read those as upper bounds.
FREQUENCY_BANDS = [
    ("elite", 1.0, "on demand: at least once a day"),
    ("high", 1 / 7, "between once a day and once a week"),
    ("medium", 1 / 30, "between once a week and once a month"),
    ("low", 0.0, "less than once a month"),
]
FAILURE_BANDS = [
    ("elite", 0.05, "5 % or less"),
    ("high", 0.10, "more than 5 %, up to 10 %"),
    ("medium", 0.15, "more than 10 %, up to 15 %"),
    ("low", 1.0, "more than 15 %"),
]
FAILED_RESULTS = [Deployment.Result.FAILURE, Deployment.Result.ROLLED_BACK]


def frequency_band(per_day: float) -> str:
    """The band of a deployment frequency given in production deployments per day."""
    for band, at_least, _ in FREQUENCY_BANDS:
        if per_day >= at_least - 1e-9:
            return band
    return "low"


def failure_band(rate: float) -> str:
    """The band of a change failure rate given as a fraction (0.1 = 10 %)."""
    for band, at_most, _ in FAILURE_BANDS:
        if rate <= at_most + 1e-9:
            return band
    return "low"


def dora(filters: Filters) -> dict:
    """Production deployment frequency and change failure rate over the range, each with its
    band, and the same per week. Aborted runs changed nothing, so they count in neither.
    Two queries."""
    production = (
        filters.deployments()
        .filter(environment=Deployment.Environment.PRODUCTION)
        .exclude(result=Deployment.Result.ABORTED)
    )
    figures = {
        "deployments": Count("id"),
        "failed": Count("id", filter=Q(result__in=FAILED_RESULTS)),
    }
    overall = production.aggregate(**figures)
    per_day = overall["deployments"] / filters.days
    rate = _share(overall["failed"], overall["deployments"])
    weekly = {
        _as_date(row["week"]): row
        for row in production.annotate(week=Trunc("started_at", "week", output_field=DateField()))
        .values("week")
        .annotate(**figures)
    }
    weeks = []
    for week in filters.weeks():
        row = weekly.get(week, {"deployments": 0, "failed": 0})
        weeks.append(
            {
                "week": week,
                "deployments": row["deployments"],
                "failed": row["failed"],
                "rate": _share(row["failed"], row["deployments"]),
            }
        )
    return {
        **overall,
        "per_day": per_day,
        "per_week": per_day * 7,
        "frequency_band": frequency_band(per_day),
        "failure_rate": rate,
        "failure_band": failure_band(rate) if rate is not None else None,
        "weeks": weeks,
    }


# ---------------------------------------------------------------------------------------------
# Did it help?
# ---------------------------------------------------------------------------------------------

HANDS_ON_WORDS = re.compile(r"hands[- ]?on|toil|manual (work|effort|time)", re.IGNORECASE)
FIGURE_LABELS = {
    "elapsed": "elapsed minutes",
    "hands_on": "hands-on minutes",
    "step": "minutes of the targeted step",
}
# The rank test's outcome in the app's one vocabulary for an effect, Improvement.Verdict: the
# dashboard and the card suggest this verdict (under the test's own hedged words, its label)
# and people still choose it themselves.
SUGGESTED_VERDICTS = {
    Outcome.LIKELY_HELPED: Improvement.Verdict.CONFIRMED,
    Outcome.LIKELY_WORSE: Improvement.Verdict.REGRESSED,
    Outcome.NO_CHANGE: Improvement.Verdict.NO_EFFECT,
    Outcome.INCONCLUSIVE: Improvement.Verdict.UNCLEAR,
    Outcome.TOO_LITTLE_DATA: Improvement.Verdict.PENDING,
}


def effect_figure(improvement: Improvement) -> str:
    """Hands-on minutes when the expected effect talks about hands-on work; else elapsed."""
    return "hands_on" if HANDS_ON_WORDS.search(improvement.expected_effect or "") else "elapsed"


@dataclass
class StepMinutes:
    """A targeted step's own minutes, oldest first, around one card's done date."""

    history: list[float]
    before: list[float]
    after: list[float]


def step_minutes(cards: list[Improvement], environment: str, window: int) -> dict[int, StepMinutes]:
    """The minutes the targeted step itself took in the deployment runs around each done date.

    The hook for deployment runs (issue 13), which time every process step: for the cards
    that target a step, return by card id the step's own minutes in the runs of
    `environment` around the card's done time: the HISTORY_DEPLOYMENTS + `window` runs that
    started before it (history, then before) and the `window` from it on, oldest first, in
    one query for all cards. A step's own minutes are its hands-on time when the card's
    expected effect is about hands-on work (effect_figure), else its whole time (hands-on,
    waiting and blocked). A card left out (its step never ran in a finished run) compares
    whole deployments. The runs' step times are read in improvements/reporting/step_costs.py.
    """
    from .step_costs import step_minutes_around  # it imports this module

    return step_minutes_around(cards, environment, window)


def _merge_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for low, high in sorted(r for r in ranges if r[0] <= r[1]):
        if merged and low <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return [(low, high) for low, high in merged]


# The page lists the most recently done cards first; older ones are a narrower range away.
EFFECTS_MAX_CARDS = 60


def _deployments_before(cards: list[Improvement], environment: str) -> dict[int, int]:
    """How many deployments of `environment` started before each card's done time, in one pass.

    Deployments and done times are merged into one timeline ordered by time (a card before
    a deployment at the same instant); a running count of deployments read at each card's
    row is its position. One sort of the deployments instead of a count per card.
    """
    deployments = Deployment._meta.db_table
    improvements = Improvement._meta.db_table
    ids = [card.pk for card in cards]
    placeholders = ", ".join(["%s"] * len(ids))
    sql = f"""
        SELECT card_id, position FROM (
            SELECT kind, card_id,
                   SUM(1 - kind) OVER (
                       ORDER BY at, kind DESC, card_id ROWS UNBOUNDED PRECEDING
                   ) AS position
            FROM (
                SELECT 0 AS kind, 0 AS card_id, started_at AS at FROM {deployments}
                WHERE environment = %s
                UNION ALL
                SELECT 1 AS kind, id AS card_id, done_at AS at FROM {improvements}
                WHERE id IN ({placeholders})
            ) timeline
        ) numbered
        WHERE kind = 1
    """  # noqa: S608 - table names from the models, values as parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [environment, *ids])
        return {card_id: int(position or 0) for card_id, position in cursor.fetchall()}


def _others_done_within(
    rows: list[dict], spans: dict[int, tuple[datetime.datetime, datetime.datetime]]
) -> None:
    """Name, on each row, the other improvements finished between its first and last deployment.

    Their effect is mixed into the comparison. One query over the span of all windows.
    """
    if not spans:
        return
    earliest = min(start for start, _ in spans.values())
    latest = max(end for _, end in spans.values())
    done = [
        (moment, pk, title)
        for moment, pk, title in Improvement.objects.filter(
            column__state=Column.State.DONE, done_at__gt=earliest, done_at__lt=latest
        )
        .order_by("done_at", "pk")
        .values_list("done_at", "pk", "title")
        if moment is not None  # never, after done_at__gt; says so to the type checker
    ]
    moments = [moment for moment, _, _ in done]
    for row in rows:
        span = spans.get(row["improvement"].pk)
        if span is None:
            continue
        low = bisect.bisect_right(moments, span[0])
        high = bisect.bisect_left(moments, span[1])
        row["others_done"] = [
            {"pk": pk, "title": title, "done_at": moment}
            for moment, pk, title in done[low:high]
            if pk != row["improvement"].pk
        ]


def _effect_row(
    card: Improvement,
    figure: str,
    history: list[float],
    before: list[float],
    after: list[float],
    environment: str,
    window: int,
) -> dict:
    comparison = effect_statistics.compare(before, after, history=history)
    return {
        "improvement": card,
        "figure": figure,
        "figure_label": FIGURE_LABELS[figure],
        "environment": environment,
        "window": window,
        "comparison": comparison,
        "before_count": comparison.before_count,
        "after_count": comparison.after_count,
        "median_before": comparison.median_before,
        "median_after": comparison.median_after,
        "suggestion": SUGGESTED_VERDICTS[comparison.outcome],
        "suggestion_label": comparison.outcome.label,
        "sentence": comparison.sentence(),
        "others_done": [],
    }


# The deployments (started_at, elapsed, hands-on) up to a done time, and from it on.
Around = tuple[list[tuple], list[tuple]]


def _windows_of_many(cards: list[Improvement], window: int, environment: str) -> dict[int, Around]:
    """The deployments around each card's done time, in two queries whatever the count.

    Deployments of the one environment are numbered by start time in the database; a card
    done after deployment k gets k-R+1..k (R = window + HISTORY_DEPLOYMENTS) and
    k+1..k+window, read from the merged ranges of all cards at once.
    """
    positions = _deployments_before(cards, environment)
    reach = window + HISTORY_DEPLOYMENTS
    ranges = _merge_ranges(
        [
            (max(1, positions.get(card.pk, 0) - reach + 1), positions.get(card.pk, 0) + window)
            for card in cards
        ]
    )
    condition = Q()
    for low, high in ranges:
        condition |= Q(number__gte=low, number__lte=high)
    numbered = (
        Deployment.objects.filter(environment=environment)
        .order_by()
        .annotate(number=Window(RowNumber(), order_by=[F("started_at").asc(), F("id").asc()]))
        .filter(condition)
        .values_list("number", "started_at", "elapsed_minutes", "hands_on_minutes")
    )
    by_number = {row[0]: row[1:] for row in numbered}
    windows = {}
    for card in cards:
        k = positions.get(card.pk, 0)
        windows[card.pk] = (
            [by_number[n] for n in range(k - reach + 1, k + 1) if n in by_number],
            [by_number[n] for n in range(k + 1, k + window + 1) if n in by_number],
        )
    return windows


def _windows_of_one(card: Improvement, window: int, environment: str) -> Around:
    """The same deployments for one card, by two short reads of the start-time index."""
    deployments = Deployment.objects.filter(environment=environment).values_list(
        "started_at", "elapsed_minutes", "hands_on_minutes"
    )
    earlier = deployments.filter(started_at__lt=card.done_at).order_by("-started_at", "-id")
    later = deployments.filter(started_at__gte=card.done_at).order_by("started_at", "id")
    return (
        list(reversed(earlier[: window + HISTORY_DEPLOYMENTS])),
        list(later[:window]),
    )


def effects_of(
    cards: list[Improvement],
    window: int = DEFAULT_WINDOW,
    environment: str = Deployment.Environment.PRODUCTION,
) -> list[dict]:
    """Before and after each finished card, in the order given: the rows of "Did it help?".

    The dashboard's panel and a card's own page both come here. A card compares the
    `window` deployments of `environment` that started before its done time with the
    `window` from it on, and estimates the autocorrelation over those and the
    HISTORY_DEPLOYMENTS before them. A fixed number of queries whatever the number of
    cards or deployments, none without cards.
    """
    cards = [card for card in cards if card.done_at is not None]
    if not cards:
        return []
    if len(cards) == 1:
        windows = {cards[0].pk: _windows_of_one(cards[0], window, environment)}
    else:
        windows = _windows_of_many(cards, window, environment)
    targeting = [card for card in cards if card.target_step_id]
    by_step = step_minutes(targeting, environment, window) if targeting else {}
    column = {"elapsed": 1, "hands_on": 2}
    rows, spans = [], {}
    for card in cards:
        earlier, later = windows[card.pk]
        shown = earlier[-window:] + later
        if shown:
            spans[card.pk] = (shown[0][0], shown[-1][0])
        if card.pk in by_step:
            step = by_step[card.pk]
            rows.append(
                _effect_row(
                    card, "step", step.history, step.before, step.after, environment, window
                )
            )
            continue
        figure = effect_figure(card)
        minutes = [row[column[figure]] for row in earlier]
        rows.append(
            _effect_row(
                card,
                figure,
                history=minutes[:-window],
                before=minutes[-window:],
                after=[row[column[figure]] for row in later],
                environment=environment,
                window=window,
            )
        )
    _others_done_within(rows, spans)
    return rows


def effects(filters: Filters) -> list[dict]:
    """The "Did it help?" rows of the cards done in the range with a target step or effect."""
    cards = list(
        done_improvements(filters)
        .filter(Q(target_step__isnull=False) | ~Q(expected_effect=""))
        .select_related("target_step", "category", "unit")
        .order_by("-done_at", "-pk")[:EFFECTS_MAX_CARDS]
    )
    return effects_of(cards, filters.window, filters.environment)


def effect_of(improvement: Improvement) -> dict | None:
    """The "Did it help?" row of one finished card, with the dashboard's defaults; else None."""
    if improvement.done_at is None or improvement.column.state != Column.State.DONE:
        return None
    (row,) = effects_of([improvement])
    return row
