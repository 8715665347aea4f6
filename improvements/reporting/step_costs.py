"""Where do the minutes go: per-step cost of finished deployment runs, ranked as a Pareto.

Three queries whatever the data size: the per-step aggregates (with the percentiles) in
SQL over the run steps in the range, the steps' titles, and the improvements targeting them.
"""

from typing import Any

from django.db.models import BooleanField, Case, Count, F, Q, Sum, Value, When, Window
from django.db.models.expressions import BaseExpression
from django.db.models.functions import RowNumber

from retros.models import DeploymentRun, ProcessStep, RunStep
from retros.permissions import AnyUser

from ..models import Improvement
from .metrics import Filters, Percentile, percentile_cont

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
    found = list(
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
    if not found:
        return []
    # Each row grows the figures computed below.
    rows: list[dict[str, Any]] = [{**row} for row in found]
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
        step_id = card.target_step_id
        assert step_id is not None  # the cards were chosen by their step
        targeting.setdefault(step_id, []).append(card)
        card_counts[step_id] = card.of
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


def _median_minutes(minutes: list[float]) -> float | None:
    median = percentile_cont(minutes, 0.5)
    return None if median is None else round(median, 1)


def _percent(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


def _card_text(card: Improvement) -> str:
    text = f"{card.title} ({card.column.name})"
    effect = getattr(card, "step_effect", None)
    if effect and effect["before"] is not None and effect["after"] is not None:
        text += f" step {effect['before']:g} -> {effect['after']:g} min per run"
    return text


def panel_step_costs(filters: Filters, user: AnyUser) -> dict:
    rows = step_costs(filters)
    cards = [card for row in rows for card in row["improvements"]]
    effects = step_effects(cards, filters.window)
    for card in cards:
        card.step_effect = effects.get(card.pk)
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
                    "; ".join(_card_text(card) for card in row["improvements"]),
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


def step_effects(cards: list[Improvement], window: int) -> dict[int, dict]:
    """For done cards that target a step: the step's own minutes per run before and after.

    The median hands-on minutes (waiting minutes for a step that is automated) of that step
    in the `window` finished runs before the card was done and the `window` runs after. One
    query for any number of cards: the runs are ranked by distance from each card's done date
    in SQL, and only those within the window come back.
    """
    done = {card.pk: card for card in cards if card.done_at and card.target_step_id}
    if not done:
        return {}
    card_done = F("process_step__improvements__done_at")
    before = Case(
        When(run__started_at__lt=card_done, then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )
    partition: list[BaseExpression | F] = [F("process_step__improvements"), before]
    rows = (
        RunStep.objects.filter(
            run__state=DeploymentRun.State.FINISHED,
            process_step__improvements__in=list(done),
        )
        .annotate(
            card=F("process_step__improvements"),
            is_before=before,
            rank=Case(
                When(
                    run__started_at__lt=card_done,
                    then=Window(
                        RowNumber(), partition_by=partition, order_by=F("run__started_at").desc()
                    ),
                ),
                default=Window(
                    RowNumber(), partition_by=partition, order_by=F("run__started_at").asc()
                ),
            ),
        )
        .filter(rank__lte=window)
        .values_list("card", "is_before", "mode", "hands_on_seconds", "waiting_seconds")
    )
    sides: dict[int, dict[bool, list[float]]] = {pk: {True: [], False: []} for pk in done}
    for card, is_before, mode, hands_on, waiting in rows:
        automated = mode == ProcessStep.Mode.AUTOMATED
        sides[card][is_before].append((waiting if automated else hands_on) / 60)
    effects = {}
    for pk, side in sides.items():
        effects[pk] = {
            "before": _median_minutes(side[True]),
            "after": _median_minutes(side[False]),
            "before_runs": len(side[True]),
            "after_runs": len(side[False]),
        }
    return effects


def step_minutes_around(cards: list[Improvement], environment: str, window: int) -> dict:
    """metrics.step_minutes, from the runs: each card's targeted step, in the runs around it.

    For each card that targets a step, the step's own minutes in the finished runs of
    `environment`: the HISTORY_DEPLOYMENTS + `window` runs before the done time (history,
    then before) and the `window` runs from it on, oldest first. Its hands-on minutes when
    the card's expected effect is about hands-on work, else all its time (hands-on, waiting
    and blocked). One query for all cards; a card whose step never ran is left out.
    """
    from .effect_statistics import HISTORY_DEPLOYMENTS
    from .metrics import StepMinutes, effect_figure

    wanted = {card.pk: card for card in cards if card.done_at and card.target_step_id}
    if not wanted:
        return {}
    card_done = F("process_step__improvements__done_at")
    before = Q(run__started_at__lt=card_done)
    side = Case(When(before, then=Value(True)), default=Value(False), output_field=BooleanField())
    partition: list[BaseExpression | F] = [F("process_step__improvements"), side]
    rows = (
        RunStep.objects.filter(
            run__state=DeploymentRun.State.FINISHED,
            run__environment=environment,
            process_step__improvements__in=list(wanted),
        )
        .annotate(
            card=F("process_step__improvements"),
            is_before=side,
            started=F("run__started_at"),
            rank=Case(
                When(
                    before,
                    then=Window(
                        RowNumber(), partition_by=partition, order_by=F("run__started_at").desc()
                    ),
                ),
                default=Window(
                    RowNumber(), partition_by=partition, order_by=F("run__started_at").asc()
                ),
            ),
            limit=Case(
                When(before, then=Value(HISTORY_DEPLOYMENTS + window)), default=Value(window)
            ),
        )
        .filter(rank__lte=F("limit"))
        .values_list(
            "card", "is_before", "started", "hands_on_seconds", "waiting_seconds", "blocked_seconds"
        )
    )
    found: dict[int, dict[bool, list]] = {}
    for card, is_before, started, hands_on, waiting, blocked in rows:
        seconds = hands_on
        if effect_figure(wanted[card]) != "hands_on":
            seconds = hands_on + waiting + blocked
        found.setdefault(card, {True: [], False: []})[is_before].append(
            (started, round(seconds / 60, 1))
        )
    result = {}
    for card, sides in found.items():
        earlier = [minutes for _, minutes in sorted(sides[True], key=lambda row: row[0])]
        later = [minutes for _, minutes in sorted(sides[False], key=lambda row: row[0])]
        result[card] = StepMinutes(history=earlier[:-window], before=earlier[-window:], after=later)
    return result
