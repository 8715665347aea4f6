"""The dashboard's panels: is the deployment process getting better?

The page is made of panels (views/reporting.py serves them); each panel is also its own fragment URL
(/dashboard/panel/<name>/) and CSV (/dashboard/<name>.csv), so the benchmark can time them
one by one and every chart's numbers can be downloaded.
"""

import datetime
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from retros.models import Deployment
from retros.permissions import AnyUser
from retros.weeks import monday_label, monday_of

from ..models import COUNT_RULE, Improvement
from ..permissions import can_set_verdict
from . import effect_statistics, metrics

# Every panel, in page order; each is /dashboard/panel/<name>/ and /dashboard/<name>.csv.
PANELS: tuple[str, ...] = (
    "wip",
    "throughput",
    "flow-times",
    "cfd",
    "ageing",
    "recurring",
    "follow-through",
    "slipped",
    "elapsed",
    "hands-on",
    "blocked",
    "manual-steps",
    "dora",
    "effects",
)
SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("flow", "Improvement flow", PANELS[0:6]),
    ("follow-through", "Retro follow-through", PANELS[6:8]),
    ("deployments", "Deployment trends", PANELS[8:13]),
    ("did-it-help", "Did it help?", PANELS[13:14]),
)
# Sections whose panels go over every deployment: the page arrives without them and htmx
# fetches each panel right after (its own URL, linked for browsers without JavaScript).
LAZY_SECTIONS = {"deployments", "did-it-help"}
SERIES_COLOURS = ["#94a3b8", "#60a5fa", "#f59e0b", "#16a34a", "#dc2626", "#7c3aed", "#0891b2"]


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _percent(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


def _ms(moment: datetime.datetime) -> int:
    return int(moment.timestamp() * 1000)


def _markers_by_week(markers: list[dict], weeks: list[datetime.date]) -> list[dict]:
    """Done dates placed on a chart whose x axis is the list of week Mondays."""
    placed = []
    for marker in markers:
        day = timezone.localtime(marker["done_at"]).date()
        monday = monday_of(day)
        if monday in weeks:
            placed.append({"index": weeks.index(monday), "label": marker["title"][:60]})
    return placed


# --- Panels: each returns a dict with a title, a table (headers + rows) and maybe a chart. ---


def panel_wip(filters: metrics.Filters, user: AnyUser) -> dict:
    rows = metrics.wip_per_column(filters)
    return {
        "title": "Work in progress per column",
        "count_rule": COUNT_RULE,
        "rows_detail": rows,
        "table": {
            "headers": ["Column", "Cards", "WIP limit", "Over limit"],
            "rows": [
                [r["name"], r["count"], r["limit"] or "", "yes" if r["over_limit"] else "no"]
                for r in rows
            ],
        },
        "chart": {
            "kind": "bar",
            "labels": [r["name"] for r in rows],
            "datasets": [{"label": "Cards", "data": [r["count"] for r in rows]}],
            "limits": [r["limit"] for r in rows],
            "y_title": "cards",
            "integer": True,
        },
    }


def panel_throughput(filters: metrics.Filters, user: AnyUser) -> dict:
    rows = metrics.throughput_per_week(filters)
    return {
        "title": "Throughput: cards done per week",
        "total": sum(r["count"] for r in rows),
        "table": {
            "headers": ["Week of", "Cards done"],
            "rows": [[monday_label(r["week"]), r["count"]] for r in rows],
        },
        "chart": {
            "kind": "bar",
            "labels": [monday_label(r["week"]) for r in rows],
            "datasets": [{"label": "Cards done", "data": [r["count"] for r in rows]}],
            "y_title": "cards",
            "integer": True,
        },
    }


def panel_flow_times(filters: metrics.Filters, user: AnyUser) -> dict:
    figures = metrics.flow_times(filters)

    def row(name: str, f: dict[str, Any]) -> list[Any]:
        return [
            name,
            f["count"],
            _round(f["lead_median"]),
            _round(f["lead_p85"]),
            f["cycle_count"],
            _round(f["cycle_median"]),
            _round(f["cycle_p85"]),
        ]

    categories = figures["categories"]
    return {
        "title": "Lead and cycle time (days)",
        "overall": figures["overall"],
        "table": {
            "headers": [
                "Category",
                "Cards done",
                "Lead time median",
                "Lead time 85th percentile",
                "Cards started",
                "Cycle time median",
                "Cycle time 85th percentile",
            ],
            "rows": [row("All categories", figures["overall"])]
            + [row(c["category__name"], c) for c in categories],
        },
        "chart": {
            "kind": "bar",
            "horizontal": True,
            "labels": [c["category__name"] for c in categories],
            "datasets": [
                {
                    "label": "Lead time median",
                    "data": [_round(c["lead_median"]) for c in categories],
                },
                {"label": "Lead time 85th", "data": [_round(c["lead_p85"]) for c in categories]},
                {
                    "label": "Cycle time median",
                    "data": [_round(c["cycle_median"]) for c in categories],
                },
                {"label": "Cycle time 85th", "data": [_round(c["cycle_p85"]) for c in categories]},
            ],
            "y_title": "days",
        }
        if categories
        else None,
    }


def panel_cfd(filters: metrics.Filters, user: AnyUser) -> dict:
    flow = metrics.cumulative_flow(filters)
    labels = [p.isoformat() for p in flow["periods"]]
    columns = flow["columns"]
    period_name = "Week of" if filters.period == "week" else "Day"
    return {
        "title": f"Cumulative flow (cards per column at the end of each {filters.period})",
        "table": {
            "headers": [period_name] + [c["name"] for c in columns],
            "rows": [[label] + [c["counts"][i] for c in columns] for i, label in enumerate(labels)],
        },
        "chart": {
            "kind": "stacked-area",
            "labels": labels,
            # Done at the bottom, ideas on top: the usual way to read a CFD.
            "datasets": [
                {"label": c["name"], "data": c["counts"], "colour": SERIES_COLOURS[i % 7]}
                for i, c in reversed(list(enumerate(columns)))
            ],
            "y_title": "cards",
            "integer": True,
        },
    }


def panel_ageing(filters: metrics.Filters, user: AnyUser) -> dict:
    cards = metrics.ageing_work(filters)
    now = timezone.now()
    rows = [
        [
            card.pk,
            card.title,
            card.column.name,
            (now - card.column_entered_at).days,
            (now - card.started_at).days if card.started_at else "",
            card.assignee.get_username() if card.assignee else "",
        ]
        for card in cards
    ]
    return {
        "title": "Ageing work in progress",
        "cards": cards,
        "table": {
            "headers": [
                "Card",
                "Title",
                "Column",
                "Days in column",
                "Days since started",
                "Assignee",
            ],
            "rows": rows,
        },
        "chart": None,
    }


def panel_recurring(filters: metrics.Filters, user: AnyUser) -> dict:
    cards = metrics.recurring_pains(filters)
    return {
        "title": "Top recurring pains",
        "cards": cards,
        "table": {
            "headers": ["Card", "Title", "Raised by retros", "Column", "Category"],
            "rows": [[c.pk, c.title, c.recurrence, c.column.name, c.category.name] for c in cards],
        },
        "chart": None,
    }


def panel_follow_through(filters: metrics.Filters, user: AnyUser) -> dict:
    f = metrics.follow_through(filters)
    return {
        "title": "Retro follow-through",
        "figures": f,
        "table": {
            "headers": ["Measure", "Count", "Out of", "Share %"],
            "rows": [
                [
                    "Pains and ideas that became improvements",
                    f["became"],
                    f["findings"],
                    _percent(f["became_share"]),
                ],
                [
                    "Retro improvements done within 4 weeks",
                    f["done_4"],
                    f["old_4"],
                    _percent(f["done_4_share"]),
                ],
                [
                    "Retro improvements done within 8 weeks",
                    f["done_8"],
                    f["old_8"],
                    _percent(f["done_8_share"]),
                ],
            ],
        },
        "chart": None,
    }


def panel_slipped(filters: metrics.Filters, user: AnyUser) -> dict:
    cards = metrics.slipped_actions(filters)
    return {
        "title": "Actions that slipped past two retros",
        "cards": cards,
        "table": {
            "headers": ["Card", "Title", "First raised (week of)", "Retros since", "Column"],
            "rows": [
                [c.pk, c.title, c.first_week.isoformat(), c.later_retros, c.column.name]
                for c in cards
            ],
        },
        "chart": None,
    }


def _panel_xmr(filters: metrics.Filters, figure: str, title: str) -> dict:
    chart = metrics.xmr_chart(filters, figure)
    markers = metrics.done_markers(filters)
    points = chart.points
    table_rows = [
        [
            p["id"],
            timezone.localtime(p["at"]).strftime("%Y-%m-%d %H:%M"),
            p["value"],
            "outside limits" if p["outside"] else "",
            "run of 8" if p["run"] else "",
        ]
        for p in points
    ]
    chart_data = None
    if points:
        xs = [_ms(p["at"]) for p in points]
        span = [min(xs), max(xs)]
        chart_data = {
            "kind": "xmr",
            "datasets": [
                {
                    "label": "Minutes",
                    "points": [
                        {"x": x, "y": p["value"], "signal": p["outside"] or p["run"]}
                        for x, p in zip(xs, points, strict=True)
                    ],
                }
            ],
            "lines": [
                {"label": "Centre (mean)", "y": _round(chart.centre), "dash": False},
                {"label": "Upper limit", "y": _round(chart.upper), "dash": True},
                # Minutes are never negative: a negative limit is drawn at 0 (the notes say so).
                {"label": "Lower limit", "y": _round(max(chart.lower, 0)), "dash": True},
            ]
            if chart.centre is not None and chart.upper is not None and chart.lower is not None
            else [],
            "span": span,
            "markers": [
                {"x": _ms(m["done_at"]), "label": m["title"][:60]}
                for m in markers
                if span[0] <= _ms(m["done_at"]) <= span[1]
            ],
            "y_title": "minutes",
        }
    return {
        "title": title,
        "xmr": chart,
        "capped": len(points) >= metrics.XMR_MAX_POINTS,
        "max_points": metrics.XMR_MAX_POINTS,
        "centre": _round(chart.centre),
        "upper": _round(chart.upper),
        "lower": _round(max(chart.lower, 0)) if chart.lower is not None else None,
        "lower_computed": _round(chart.lower),
        "lower_clamped": chart.lower is not None and chart.lower < 0,
        "markers": markers,
        "table": {
            "headers": ["Deployment", "Started", "Minutes", "Signal", "Run"],
            "rows": table_rows,
        },
        "chart": chart_data,
    }


def panel_elapsed(filters: metrics.Filters, user: AnyUser) -> dict:
    return _panel_xmr(filters, "elapsed", "Elapsed minutes per deployment (XmR)")


def panel_hands_on(filters: metrics.Filters, user: AnyUser) -> dict:
    return _panel_xmr(filters, "hands_on", "Hands-on minutes per deployment (XmR)")


def panel_blocked(filters: metrics.Filters, user: AnyUser) -> dict:
    rows = metrics.blocked_share_per_week(filters)
    weeks = [r["week"] for r in rows]
    return {
        "title": "Deployments blocked or restarted per week",
        "table": {
            "headers": ["Week of", "Deployments", "Blocked", "Restarted", "Either", "Share %"],
            "rows": [
                [
                    monday_label(r["week"]),
                    r["total"],
                    r["blocked"],
                    r["restarted"],
                    r["either"],
                    _percent(r["share"]),
                ]
                for r in rows
            ],
        },
        "chart": {
            "kind": "bar",
            "labels": [monday_label(w) for w in weeks],
            "datasets": [
                {"label": "Blocked or restarted %", "data": [_percent(r["share"]) for r in rows]}
            ],
            "markers": _markers_by_week(metrics.done_markers(filters), weeks),
            "y_title": "% of deployments",
            "y_max": 100,
        },
    }


def panel_manual_steps(filters: metrics.Filters, user: AnyUser) -> dict:
    rows = metrics.manual_steps_over_time(filters)
    weeks = [r["week"] for r in rows]
    return {
        "title": "Manual process steps left",
        "now": rows[-1]["manual"] if rows else None,
        "table": {
            "headers": ["Week of", "Manual or semi-automatic steps at week end"],
            "rows": [[monday_label(r["week"]), r["manual"]] for r in rows],
        },
        "chart": {
            "kind": "line",
            "stepped": True,
            "labels": [monday_label(w) for w in weeks],
            "datasets": [{"label": "Manual steps", "data": [r["manual"] for r in rows]}],
            "markers": _markers_by_week(metrics.done_markers(filters), weeks),
            "y_title": "steps",
            "integer": True,
        },
    }


def panel_dora(filters: metrics.Filters, user: AnyUser) -> dict:
    d = metrics.dora(filters)
    return {
        "title": "DORA: deployment frequency and change failure rate",
        "dora": d,
        "frequency_bands": metrics.FREQUENCY_BANDS,
        "failure_bands": metrics.FAILURE_BANDS,
        "failure_percent": _percent(d["failure_rate"]),
        "table": {
            "headers": ["Week of", "Production deployments", "Failed or rolled back", "Failure %"],
            "rows": [
                [monday_label(w["week"]), w["deployments"], w["failed"], _percent(w["rate"])]
                for w in d["weeks"]
            ],
        },
        "chart": {
            "kind": "bar",
            "labels": [monday_label(w["week"]) for w in d["weeks"]],
            "datasets": [
                {"label": "Production deployments", "data": [w["deployments"] for w in d["weeks"]]},
                {
                    "label": "Failed or rolled back",
                    "data": [w["failed"] for w in d["weeks"]],
                    "colour": "#dc2626",
                },
            ],
            "markers": _markers_by_week(
                metrics.done_markers(filters), [w["week"] for w in d["weeks"]]
            ),
            "y_title": "deployments",
            "integer": True,
        },
    }


def panel_effects(filters: metrics.Filters, user: AnyUser) -> dict:
    rows = metrics.effects(filters)
    for row in rows:
        row["change_text"] = effect_statistics.format_change(row["comparison"].change)
        row["p_text"] = effect_statistics.format_p(row["comparison"].p_value).removeprefix("= ")
    counts = {outcome: 0 for outcome in effect_statistics.Outcome}
    for row in rows:
        counts[row["comparison"].outcome] += 1
    tested = len(rows) - counts[effect_statistics.Outcome.TOO_LITTLE_DATA]
    return {
        "title": "Before and after each finished improvement",
        "effects": rows,
        "window": filters.window,
        "environment": Deployment.Environment(filters.environment).label.lower(),
        "capped": len(rows) >= metrics.EFFECTS_MAX_CARDS,
        "max_cards": metrics.EFFECTS_MAX_CARDS,
        "explanation": effect_explanation(tested),
        "outcome_counts": [(outcome.label, counts[outcome]) for outcome in counts],
        "verdicts": Improvement.Verdict.choices,
        "table": {
            "headers": [
                "Card",
                "Title",
                "Done",
                "Environment",
                "Figure",
                "Deployments before",
                "Median before",
                "Deployments after",
                "Median after",
                "Change (%)",
                "95 % CI low (%)",
                "95 % CI high (%)",
                "p (one-sided)",
                "Lag-1 autocorrelation",
                "Test",
                "Suggestion",
                "Other improvements done in the window",
                "Verdict",
            ],
            "rows": [
                [
                    r["improvement"].pk,
                    r["improvement"].title,
                    timezone.localtime(r["improvement"].done_at).date().isoformat(),
                    r["environment"],
                    r["figure_label"],
                    r["before_count"],
                    _round(r["median_before"]),
                    r["after_count"],
                    _round(r["median_after"]),
                    _percent(r["comparison"].change),
                    _percent(r["comparison"].change_low),
                    _percent(r["comparison"].change_high),
                    _round(r["comparison"].p_value, 4),
                    _round(r["comparison"].autocorrelation, 2),
                    r["comparison"].method,
                    r["suggestion_label"],
                    "; ".join(other["title"] for other in r["others_done"]),
                    r["improvement"].get_effect_verdict_display(),
                ]
                for r in rows
            ],
        },
        "chart": None,
    }


def card_effect_context(user: AnyUser, improvement: Improvement) -> dict:
    """The card page's "Did it help?": the same row as the dashboard's, for a finished card."""
    effect = metrics.effect_of(improvement)
    if effect is None:
        return {"effect": None}
    return {
        "effect": effect,
        "explanation": effect_explanation(metrics.EFFECTS_MAX_CARDS),
        "can_set_verdict": can_set_verdict(user, improvement),
        "verdicts": Improvement.Verdict.choices,
    }


def effect_explanation(tested: int) -> dict:
    """What the page says about the rule: the same words on the dashboard and on a card."""
    return {
        "alpha": round(effect_statistics.ALPHA * 100),
        "p": f"{effect_statistics.ALPHA:g}",
        "floor": round(effect_statistics.PRACTICAL_CHANGE * 100),
        "minimum": effect_statistics.MINIMUM_SIDE,
        "threshold": effect_statistics.DEPENDENCE_THRESHOLD,
        "history": effect_statistics.HISTORY_DEPLOYMENTS,
        "tested": tested,
        "by_chance": round(tested * effect_statistics.ALPHA, 1),
    }


PANEL_BUILDERS: dict[str, Callable[[metrics.Filters, AnyUser], dict]] = {
    "wip": panel_wip,
    "throughput": panel_throughput,
    "flow-times": panel_flow_times,
    "cfd": panel_cfd,
    "ageing": panel_ageing,
    "recurring": panel_recurring,
    "follow-through": panel_follow_through,
    "slipped": panel_slipped,
    "elapsed": panel_elapsed,
    "hands-on": panel_hands_on,
    "blocked": panel_blocked,
    "manual-steps": panel_manual_steps,
    "dora": panel_dora,
    "effects": panel_effects,
}
# A check that survives `python -O` (an assert would not): a panel added to one tuple and not
# the other would otherwise be missing from the page or answer 500 on its URL.
if tuple(PANEL_BUILDERS) != PANELS:
    raise ImproperlyConfigured("PANEL_BUILDERS must name every panel of PANELS, in page order.")


def build_panel(name: str, filters: metrics.Filters, user: AnyUser) -> dict:
    panel = PANEL_BUILDERS[name](filters, user)
    panel["name"] = name
    panel["chart_id"] = f"chart-{name}"
    panel["data_id"] = f"chart-{name}-data"
    return panel


# "Where do the minutes go" lives in its own module and is registered here, last, so the
# panels above can change without touching it.
from .step_costs import panel_step_costs  # noqa: E402

PANELS = (*PANELS, "step-costs")
SECTIONS = (*SECTIONS, ("step-costs", "Where do the minutes go?", ("step-costs",)))
LAZY_SECTIONS = LAZY_SECTIONS | {"step-costs"}
PANEL_BUILDERS["step-costs"] = panel_step_costs
