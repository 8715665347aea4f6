"""Views for the deployment log (list, CSV, hand entry) and the deployment process map."""

import csv
import datetime
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Avg, Count, Sum
from django.db.models.functions import TruncWeek
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from .. import page_sections
from ..csv_export import csv_safe
from ..forms.deployments import DeploymentFilterForm, DeploymentForm, ProcessStepForm
from ..http import HtmxHttpRequest
from ..models import (
    MANUAL_MODES,
    Deployment,
    DeploymentQuerySet,
    ProcessStep,
    ProcessStepChange,
    ProcessStepRevision,
)
from ..permissions import can_edit_process, can_log_deployments
from ..weeks import monday_of, week_label

PAGE_SIZE = 50
CSV_CHUNK_SIZE = 2000


def _require_deployment_logger(request: HtmxHttpRequest) -> None:
    if not can_log_deployments(request.user):
        raise PermissionDenied("Only members of a unit (or staff) may log deployments.")


def _require_process_editor(request: HtmxHttpRequest) -> None:
    if not can_edit_process(request.user):
        raise PermissionDenied("Only QA and platform members (or staff) may change the process.")


def _filtered_deployments(
    request: HtmxHttpRequest,
) -> tuple[DeploymentFilterForm, DeploymentQuerySet]:
    form = DeploymentFilterForm(request.GET or None)
    deployments = Deployment.objects.all()
    if request.GET:
        deployments = form.filter(deployments)
    return form, deployments


@require_safe
def deployment_list(request: HtmxHttpRequest) -> HttpResponse:
    form, deployments = _filtered_deployments(request)
    page = Paginator(
        deployments.select_related("duty_week__unit", "deployer").order_by("-started_at", "-pk"),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "retros/deployment_list.html",
        {
            "filter_form": form,
            "page": page,
            "stats": deployments.stats(),
            "query": query.urlencode(),
            "can_log": can_log_deployments(request.user),
        },
    )


CSV_COLUMNS = [
    ("id", "pk"),
    ("started_at", "started_at"),
    ("finished_at", "finished_at"),
    ("environment", "environment"),
    ("result", "result"),
    ("trigger", "trigger"),
    ("elapsed_minutes", "elapsed_minutes"),
    ("hands_on_minutes", "hands_on_minutes"),
    ("blocked_minutes", "blocked_minutes"),
    ("blocked_cause", "blocked_cause"),
    ("restarts", "restarts"),
    ("manual_steps_done", "manual_steps_done"),
    ("deployer", "deployer__username"),
    ("shadow", "shadow__username"),
    ("duty_week", "duty_week__week_start"),
    ("unit", "duty_week__unit__name"),
    ("version", "version"),
    ("repo_url", "repo_url"),
    ("external_id", "external_id"),
    ("notes", "notes"),
]


class _Echo:
    """A file-like object whose write hands the line back, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def _csv_rows(deployments: DeploymentQuerySet) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow([header for header, _ in CSV_COLUMNS])
    rows = deployments.order_by("-started_at", "-pk").values_list(
        *[lookup for _, lookup in CSV_COLUMNS]
    )
    # A server-side cursor in chunks: memory stays flat however many rows there are.
    for row in rows.iterator(chunk_size=CSV_CHUNK_SIZE):
        yield writer.writerow([csv_safe(value) for value in row])


@require_safe
def deployment_csv(request: HtmxHttpRequest) -> StreamingHttpResponse:
    _, deployments = _filtered_deployments(request)
    response = StreamingHttpResponse(_csv_rows(deployments), content_type="text/csv")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="deployments-{stamp}.csv"'
    return response


@require_safe
def deployment_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    deployment = get_object_or_404(
        Deployment.objects.select_related("duty_week__unit", "deployer", "shadow"), pk=pk
    )
    return render(
        request,
        "retros/deployment_detail.html",
        {"deployment": deployment, "can_log": can_log_deployments(request.user)},
    )


def deployment_create(request: HtmxHttpRequest) -> HttpResponse:
    _require_deployment_logger(request)
    if request.method == "POST":
        form = DeploymentForm(request.POST)
        if form.is_valid():
            with transaction.atomic():
                deployment = form.save()
            messages.success(request, "Deployment logged.")
            return redirect(deployment)
    else:
        now = timezone.localtime().replace(second=0, microsecond=0)
        form = DeploymentForm(initial={"deployer": request.user, "finished_at": now})
    return render(request, "retros/deployment_form.html", {"form": form, "deployment": None})


def deployment_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    _require_deployment_logger(request)
    deployment = get_object_or_404(Deployment, pk=pk)
    if request.method == "POST":
        form = DeploymentForm(request.POST, instance=deployment)
        if form.is_valid():
            with transaction.atomic():
                deployment = form.save()
            messages.success(request, "Deployment saved.")
            return redirect(deployment)
    else:
        form = DeploymentForm(instance=deployment)
    return render(request, "retros/deployment_form.html", {"form": form, "deployment": deployment})


# The process map


def process_history(weeks: int, today: datetime.date | None = None) -> list[dict[str, Any]]:
    """Manual steps left and manual minutes per deployment at the end of each recent week,
    beside that week's deployment log. Three queries however long the history (see
    ProcessStepQuerySet.manual_left_by_week). Newest week first.
    """
    tz = timezone.get_current_timezone()
    mondays = [
        monday_of(today or timezone.localdate()) - datetime.timedelta(weeks=n) for n in range(weeks)
    ]
    since = datetime.datetime.combine(mondays[-1], datetime.time.min, tzinfo=tz)
    left = ProcessStep.objects.manual_left_by_week(mondays)
    logged = {
        timezone.localdate(row["week"]): row
        for row in Deployment.objects.filter(started_at__gte=since)
        .annotate(week=TruncWeek("started_at"))
        .values("week")
        .annotate(
            count=Count("pk"), hands_on=Avg("hands_on_minutes"), steps=Avg("manual_steps_done")
        )
        .order_by("week")
    }

    rows = []
    for monday in mondays:
        week = logged.get(monday)
        rows.append(
            {
                "week_start": monday,
                "label": week_label(monday),
                "manual_steps": left[monday].steps,
                "manual_minutes": left[monday].minutes,
                "changes": left[monday].changes,
                "deployments": week["count"] if week else 0,
                "hands_on_per_deployment": round(week["hands_on"]) if week else None,
                "manual_steps_done_per_deployment": round(week["steps"], 1) if week else None,
            }
        )
    return rows


@require_safe
def process_map(request: HtmxHttpRequest) -> HttpResponse:
    steps = list(ProcessStep.objects.select_related("unit"))
    recent_changes = (
        ProcessStepChange.objects.select_related("step", "changed_by")
        .prefetch_related(*page_sections.prefetch("step_change_note"))
        .order_by("-changed_at", "-pk")[:20]
    )
    try:
        weeks = min(max(int(request.GET.get("weeks", 12)), 1), 520)
    except ValueError:
        weeks = 12
    figures = ProcessStep.objects.filter(mode__in=MANUAL_MODES).aggregate(
        count=Count("pk"), minutes=Sum("minutes")
    )
    return render(
        request,
        "retros/process_map.html",
        {
            "steps": steps,
            "manual_steps_left": figures["count"],
            "manual_minutes": figures["minutes"] or 0,
            "history": process_history(weeks),
            "weeks": weeks,
            "recent_changes": recent_changes,
            "can_edit": can_edit_process(request.user),
            "sections": page_sections.templates("process_actions", "step_change_note"),
        },
    )


def process_step_create(request: HtmxHttpRequest) -> HttpResponse:
    _require_process_editor(request)
    if request.method == "POST":
        form = ProcessStepForm(request.POST)
        if form.is_valid():
            with transaction.atomic():
                step = form.save(commit=False)
                last = ProcessStep.objects.order_by("-position").values_list("position", flat=True)
                step.position = (last.first() or 0) + 1
                step.save()
            messages.success(request, f"Step “{step.title}” added.")
            return redirect("deployments:process_map")
    else:
        form = ProcessStepForm()
    return render(request, "retros/process_step_form.html", {"form": form, "step": None})


def process_step_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    _require_process_editor(request)
    step = get_object_or_404(ProcessStep, pk=pk)
    old_mode, old_how_to = step.mode, step.how_to
    if request.method == "POST":
        form = ProcessStepForm(request.POST, instance=step)
        if form.is_valid():
            new_mode = form.cleaned_data["mode"]
            with transaction.atomic():
                step = form.save(commit=False)
                step.mode = old_mode
                step.save()
                if step.how_to != old_how_to:
                    ProcessStepRevision.objects.create(
                        step=step, how_to=step.how_to, author=request.user
                    )
                step.change_mode(new_mode, user=request.user, note=form.cleaned_data["note"])
            messages.success(request, f"Step “{step.title}” saved.")
            return redirect("deployments:process_map")
    else:
        form = ProcessStepForm(instance=step)
    changes = (
        step.changes.select_related("changed_by")
        .prefetch_related(*page_sections.prefetch("step_change_note"))
        .order_by("-changed_at", "-pk")
    )
    revisions = step.revisions.select_related("author", "run")[:50]
    return render(
        request,
        "retros/process_step_form.html",
        {
            "form": form,
            "step": step,
            "changes": changes,
            "revisions": revisions,
            "sections": page_sections.templates("step_change_note"),
        },
    )


@require_POST
def process_step_move(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Move a step one place up or down; positions are renumbered 1..n in the same go."""
    _require_process_editor(request)
    direction = request.POST.get("direction")
    if direction not in ("up", "down"):
        return HttpResponse("Say which way: up or down.", status=400)
    with transaction.atomic():
        # Locking every step makes concurrent reorders queue up instead of interleaving.
        steps = list(ProcessStep.objects.select_for_update().order_by("position", "pk"))
        ids = [step.pk for step in steps]
        if pk not in ids:
            return HttpResponse("That step no longer exists.", status=404)
        index = ids.index(pk)
        other = index - 1 if direction == "up" else index + 1
        if 0 <= other < len(steps):
            steps[index], steps[other] = steps[other], steps[index]
        for position, step in enumerate(steps, start=1):
            if step.position != position:
                step.position = position
        ProcessStep.objects.bulk_update(steps, ["position"])
    return redirect(reverse("deployments:process_map") + f"#step-{pk}")
