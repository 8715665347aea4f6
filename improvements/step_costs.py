"""Where do the minutes go: per-step cost of finished deployment runs, ranked as a Pareto.

Three queries whatever the data size: the per-step aggregates (with the percentiles) in
SQL over the run steps in the range, the steps' titles, and the improvements targeting them.
"""

from django.db.models import Count, F, Q, Sum, Window
from django.db.models.functions import RowNumber

from retros.models import DeploymentRun, ProcessStep, RunStep

from .metrics import Filters, Percentile
from .models import Improvement

CARDS_PER_STEP = 3


def step_costs(filters: Filters) -> list[dict]:
    """Per process step, over finished runs started in the range, most hands-on time first.

    Each row: runs, hands-on minutes in all and per run (median, 25th and 75th percentile),
    waiting minutes in all, blocks, runs it blocked, restarts it caused, times skipped, and
    the cumulative share of all hands-on minutes up to this step (the Pareto line).
    """
    steps = RunStep.objects.filter(
        run__state=DeploymentRun.State.FINISHED,
        run__started_at__gte=filters.start_at,
        run__started_at__lt=filters.end_at,
        process_step__isnull=False,
    )
    if filters.unit is not None:
        steps = steps.filter(run__duty_week__unit=filters.unit)
    rows = list(
        steps.values("process_step")
        .annotate(
            runs=Count("pk"),
            hands_on=Sum("hands_on_seconds"),
            waiting=Sum("waiting_seconds"),
            median=Percentile("hands_on_seconds", 0.5),
            p25=Percentile("hands_on_seconds", 0.25),
            p75=Percentile("hands_on_seconds", 0.75),
            block_count=Sum("blocks"),
            blocked_runs=Count("pk", filter=Q(blocks__gt=0)),
            restart_count=Sum("restarts_caused"),
            skipped=Count("pk", filter=Q(state=RunStep.State.SKIPPED)),
        )
        .order_by("-hands_on", "process_step")
    )
    if not rows:
        return []
    ids = [row["process_step"] for row in rows]
    titles = {
        step.pk: step for step in ProcessStep.objects.filter(pk__in=ids).only("title", "mode")
    }
    # The three most recent cards per step (open ones first), and how many there are in all:
    # thousands of cards may target the steps over the years.
    targeting: dict[int, list[Improvement]] = {}
    cards = (
        Improvement.objects.filter(target_step__in=ids)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=F("target_step"),
                order_by=[F("done_at").desc(nulls_first=True), F("pk").desc()],
            ),
            of=Window(Count("pk"), partition_by=F("target_step")),
        )
        .filter(rank__lte=CARDS_PER_STEP)
        .order_by("target_step", "rank")
        .select_related("column")
        .only("title", "target_step_id", "done_at", "column__name", "column__state")
    )
    card_counts: dict[int, int] = {}
    for card in cards:
        targeting.setdefault(card.target_step_id, []).append(card)
        card_counts[card.target_step_id] = card.of
    total = sum(row["hands_on"] for row in rows) or 0
    running = 0
    for row in rows:
        running += row["hands_on"]
        step = titles.get(row["process_step"])
        row["step"] = step
        row["hands_on_minutes"] = round(row["hands_on"] / 60)
        row["waiting_minutes"] = round(row["waiting"] / 60)
        for name in ("median", "p25", "p75"):
            row[f"{name}_minutes"] = round((row[name] or 0) / 60, 1)
        row["share"] = row["hands_on"] / total if total else None
        row["cumulative"] = running / total if total else None
        row["improvements"] = targeting.get(row["process_step"], [])
        row["more_improvements"] = card_counts.get(row["process_step"], 0) - len(
            row["improvements"]
        )
    return rows


def _percent(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


def panel_step_costs(filters: Filters, user) -> dict:
    rows = step_costs(filters)
    top = rows[:15]
    return {
        "title": "Where do the minutes go? Hands-on minutes per process step",
        "template": "improvements/step_costs_panel.html",
        "rows": rows,
        "runs": max((row["runs"] for row in rows), default=0),
        "table": {
            "headers": [
                "Step",
                "Runs",
                "Hands-on minutes in all",
                "Share %",
                "Cumulative %",
                "Median per run",
                "25th percentile",
                "75th percentile",
                "Waiting minutes in all",
                "Blocks",
                "Runs blocked",
                "Restarts caused",
                "Skipped",
                "Improvements targeting it",
            ],
            "rows": [
                [
                    row["step"].title if row["step"] else "?",
                    row["runs"],
                    row["hands_on_minutes"],
                    _percent(row["share"]),
                    _percent(row["cumulative"]),
                    row["median_minutes"],
                    row["p25_minutes"],
                    row["p75_minutes"],
                    row["waiting_minutes"],
                    row["block_count"],
                    row["blocked_runs"],
                    row["restart_count"],
                    row["skipped"],
                    "; ".join(f"{card.title} ({card.column.name})" for card in row["improvements"]),
                ]
                for row in rows
            ],
        },
        "chart": {
            "kind": "bar",
            "horizontal": True,
            "labels": [row["step"].title if row["step"] else "?" for row in top],
            "datasets": [
                {"label": "Hands-on minutes in all", "data": [r["hands_on_minutes"] for r in top]}
            ],
            "y_title": "hands-on minutes in the range",
        }
        if top
        else None,
    }
