"""Views of the reports over both apps: the dashboard (is the deployment process getting better?)
with its panels as fragments and CSV, a card's effect verdict, and the weekly update."""

import csv

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST, require_safe

from retros import outbox, weeks
from retros.csv_export import csv_safe
from retros.http import HtmxHttpRequest
from retros.weeks import monday_of, week_label

from .. import notifications
from ..forms.reporting import DashboardFilterForm, VerdictForm
from ..models import Column, Improvement
from ..permissions import can_set_verdict
from ..reporting import metrics
from ..reporting.headline import headline as headline_figures
from ..reporting.panels import LAZY_SECTIONS, PANEL_BUILDERS, SECTIONS, build_panel
from ..reporting.weekly_update import weekly_summary


def _filter_form(request: HtmxHttpRequest) -> DashboardFilterForm:
    default = metrics.Filters.default()
    initial = {"start": default.start, "end": default.end, "window": default.window}
    initial["environment"] = default.environment
    return DashboardFilterForm(request.GET or None, initial={**initial, "period": "week"})


def _filters(form: DashboardFilterForm) -> metrics.Filters:
    if not form.is_bound:
        return metrics.Filters.default()
    return form.filters()


@require_safe
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    form = _filter_form(request)
    filters = _filters(form)
    sections = [
        {
            "slug": slug,
            "title": title,
            "panels": [
                {"name": name, "lazy": True}
                if slug in LAZY_SECTIONS
                else build_panel(name, filters, request.user)
                for name in names
            ],
        }
        for slug, title, names in SECTIONS
    ]
    return render(
        request,
        "improvements/dashboard.html",
        {
            "form": form,
            "filters": filters,
            "sections": sections,
            "query": request.GET.urlencode(),
            "headline": headline_figures(filters),
        },
    )


def _csv_response(panel: dict, filters: metrics.Filters) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"wallbreaker-{panel['name']}-{filters.start:%Y%m%d}-{filters.end:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    # Card titles, column, category and user names reach these cells: defuse formulas.
    writer.writerow([csv_safe(value) for value in panel["table"]["headers"]])
    for row in panel["table"]["rows"]:
        writer.writerow([csv_safe(value) for value in row])
    return response


@require_safe
def dashboard_panel(request: HtmxHttpRequest, name: str) -> HttpResponse:
    """One panel as an HTML fragment, or as CSV with ?format=csv."""
    if name not in PANEL_BUILDERS:
        raise Http404("No such dashboard panel.")
    form = _filter_form(request)
    filters = _filters(form)
    panel = build_panel(name, filters, request.user)
    if request.GET.get("format") == "csv":
        return _csv_response(panel, filters)
    return render(
        request,
        "improvements/dashboard.html#panel",
        {"panel": panel, "filters": filters, "query": request.GET.urlencode()},
    )


@require_safe
def dashboard_csv(request: HtmxHttpRequest, name: str) -> HttpResponse:
    if name not in PANEL_BUILDERS:
        raise Http404("No such dashboard panel.")
    filters = _filters(_filter_form(request))
    return _csv_response(build_panel(name, filters, request.user), filters)


@require_POST
def effect_verdict(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A person confirms (or overrides) the suggested effect verdict of a finished card."""
    improvement = get_object_or_404(Improvement.objects.select_related("unit", "column"), pk=pk)
    if not can_set_verdict(request.user, improvement):
        return HttpResponse(
            "Only staff or members of the card's unit may set its verdict.", status=403
        )
    form = VerdictForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Pick one of the verdicts.", status=400)
    if improvement.column.state != Column.State.DONE:
        return HttpResponse("Only a finished card gets an effect verdict.", status=400)
    verdict = form.cleaned_data["verdict"]
    with transaction.atomic():
        previous = improvement.set_verdict(
            verdict, request.user, suggested=form.cleaned_data["suggested"]
        )
        outbox.enqueue(notifications.verdict_set(improvement, request.user, previous))
    messages.success(
        request, f"“{improvement.title}”: verdict {improvement.get_effect_verdict_display()}."
    )
    target = form.cleaned_data["next"]
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("reporting:dashboard") + "#panel-effects"
    return redirect(target)


@require_GET
def weekly_update_now(request: HtmxHttpRequest) -> HttpResponse:
    return redirect("reporting:weekly_update", week_label(monday_of(timezone.localdate())))


@require_GET
def weekly_update(request: HtmxHttpRequest, week: str) -> HttpResponse:
    """The update as a page, with its markdown to copy, or as bare markdown with ?format=md."""
    try:
        monday = weeks.parse_iso_week(week)
    except weeks.WeekError as error:
        # Not found, but say why: a typed 2027-W53 deserves "2027 has 52 weeks", not a blank 404.
        return render(
            request,
            "improvements/weekly_update_missing.html",
            {"week": week[:20], "reason": str(error)},
            status=404,
        )
    summary = weekly_summary(monday)
    summary["site_url"] = request.build_absolute_uri("/").rstrip("/")
    text = render_to_string("improvements/weekly_update.md", summary)
    if request.GET.get("format") == "md":
        response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
        response["Content-Disposition"] = f'inline; filename="update-{summary["label"]}.md"'
        return response
    return render(request, "improvements/weekly_update.html", {**summary, "markdown": text})
