"""Views for weekly deployment retros: history, the retro form, its findings and its markdown."""

import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpResponse, HttpResponseNotModified
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST, require_safe

from .. import page_sections, permissions
from ..forms.retros import FindingForm, RetroForm, RetroHistoryFilter, RetroStartForm
from ..http import HtmxHttpRequest
from ..models import Deployment, DutyWeek, Finding, Retrospective
from ..people import display_name
from ..permissions import can_edit_retro, can_start_retro
from ..weeks import monday_of
from .meeting import meeting_context, meeting_etag


def _get_retro_for_writing(
    request: HtmxHttpRequest, pk: int, *, lock: bool = False
) -> Retrospective:
    retros = Retrospective.objects.select_related("duty_week__unit")
    if lock:
        retros = retros.select_for_update(of=("self",))
    retro = get_object_or_404(retros, pk=pk)
    if not can_edit_retro(request.user, retro):
        if retro.is_submitted:
            raise PermissionDenied("After submit only the facilitator and staff edit this retro.")
        raise PermissionDenied("Only the people on duty that week (or staff) may edit this retro.")
    return retro


def _finding_for_writing(request: HtmxHttpRequest, pk: int) -> tuple[Finding, Retrospective]:
    """The finding and its locked retro, if this user may change it (and may see it)."""
    finding = get_object_or_404(Finding, pk=pk)
    retro = _get_retro_for_writing(request, finding.retro_id, lock=True)
    if not permissions.can_see_finding(request.user, retro, finding):
        raise PermissionDenied("During private writing a finding is its author's alone.")
    return finding, retro


@require_safe
def retro_list(request: HtmxHttpRequest) -> HttpResponse:
    """The history of retros, overall or per unit, with a search over their findings."""
    filters = RetroHistoryFilter(request.GET or None)
    retros = (
        Retrospective.objects.select_related("duty_week__unit", "facilitator")
        .annotate(finding_count=Count("findings", distinct=True))
        .order_by("-duty_week__week_start")
    )
    matching_findings = None
    if filters.is_valid():
        data = filters.cleaned_data
        if data["unit"]:
            retros = retros.filter(duty_week__unit=data["unit"])
        if data["status"]:
            retros = retros.filter(status=data["status"])
        if data["q"]:
            retros = retros.filter(findings__text__icontains=data["q"])
            matching_findings = (
                Finding.objects.filter(text__icontains=data["q"], retro__in=retros.values("pk"))
                # Findings written privately stay their author's until the retro reveals them.
                .exclude(
                    Q(retro__findings_hidden=True, retro__status=Retrospective.Status.DRAFT)
                    & ~Q(author_id=request.user.pk)
                )
                .select_related("retro__duty_week__unit", "author")
                .order_by("-retro__duty_week__week_start", "id")[:50]
            )
    page = Paginator(retros, 25).get_page(request.GET.get("page"))
    this_monday = monday_of(timezone.localdate())
    open_weeks = (
        DutyWeek.objects.select_related("unit")
        .filter(
            week_start__lte=this_monday,
            week_start__gte=this_monday - datetime.timedelta(weeks=2),
            retro__isnull=True,
        )
        .order_by("-week_start")
    )
    this_week = DutyWeek.objects.select_related("unit").current()
    return render(
        request,
        "retros/retro_list.html",
        {
            "page": page,
            "filters": filters,
            "matching_findings": matching_findings,
            "this_week": this_week,
            "this_week_retro": Retrospective.objects.filter(duty_week=this_week).first()
            if this_week
            else None,
            "open_weeks": [
                week for week in open_weeks if week.week_start != this_monday or this_week
            ],
            "selected_unit": filters.cleaned_data.get("unit") if filters.is_valid() else None,
        },
    )


@require_POST
def retro_start(request: HtmxHttpRequest) -> HttpResponse:
    """Open a duty week's retro (this week's by default), creating it the first time.

    The database allows one retro per duty week, so a second start, even a simultaneous
    one, leads to the retro that already exists.
    """
    form = RetroStartForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for error in form.errors["week"]))
        return redirect("retros:retro_list")
    week = form.cleaned_data["week"] or (DutyWeek.objects.select_related("unit").current())
    if week is None:
        messages.error(request, "No unit is on deployment duty that week, so there is no retro.")
        return redirect("retros:retro_list")
    existing = Retrospective.objects.filter(duty_week=week).first()
    if existing:
        return redirect(existing)
    if not can_start_retro(request.user, week):
        raise PermissionDenied("Only the people on duty that week may start its retro.")
    with transaction.atomic():
        retro, created = Retrospective.objects.get_or_create(
            duty_week=week, defaults={"facilitator": request.user}
        )
        if created:
            people = {week.qa_person_id, week.platform_person_id}
            if week.unit.members.filter(pk=request.user.pk).exists():
                people.add(request.user.pk)
            retro.attendees.add(*[pk for pk in people if pk])
    return redirect(retro)


def retro_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    if request.method == "POST":
        return _retro_save(request, pk)
    retro = get_object_or_404(
        Retrospective.objects.select_related(
            "duty_week__unit", "duty_week__qa_person", "duty_week__platform_person", "facilitator"
        ),
        pk=pk,
    )
    return _render_detail(request, retro, form=RetroForm(instance=retro))


def _render_detail(
    request: HtmxHttpRequest, retro: Retrospective, status: int = 200, **forms: object
) -> HttpResponse:
    deployments = Deployment.objects.in_week(retro.duty_week)
    context = {
        **meeting_context(retro, request.user),
        **_missing(retro),
        "form": RetroForm(instance=retro),
        "finding_form": FindingForm(),
        "group_pick": request.GET.get("group", ""),
        "deployments": deployments.select_related("deployer", "shadow"),
        "deployment_stats": deployments.stats(),
        "revisions": retro.revisions.select_related("user")[:20],
        "sections": page_sections.templates("retro_actions", "retro_follow_up"),
        **forms,
    }
    return render(request, "retros/retro_detail.html", context, status=status)


def _retro_save(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Save the header fields: by hand, or autosaved by htmx as they change.

    The row is locked and only the form's own columns are written, so an autosave that
    arrives with (or after) a submit can never turn the retro back into a draft.
    """
    with transaction.atomic():
        retro = _get_retro_for_writing(request, pk, lock=True)
        form = RetroForm(request.POST, instance=retro)
        if form.is_valid():
            changes = form.changes()
            form.save(commit=False)
            retro.save(update_fields=[*RetroForm.SAVED_COLUMNS, "updated_at"])
            form.save_m2m()
            retro.record_revision(request.user, changes)
    if request.htmx:
        context: dict[str, Any] = {"form": form, "retro": retro}
        if form.is_valid():
            context.update(saved_at=timezone.now(), **_missing(retro))
        return render(request, "retros/retro_detail.html#save-status", context)
    if form.is_valid():
        messages.success(request, "Retro saved.")
        return redirect(retro)
    return _render_detail(request, retro, status=400, form=form)


def _missing(retro: Retrospective) -> dict[str, Any]:
    return {"missing_attendees": retro.missing_attendees()}


@require_GET
def finding_list(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The meeting (findings, groups, votes, phase) for attendees' pages to poll; 304 when
    nothing changed since they looked."""
    retro = get_object_or_404(Retrospective.objects.select_related("duty_week"), pk=pk)
    can_edit = can_edit_retro(request.user, retro)
    etag = meeting_etag(retro, request.user, can_edit)
    response: HttpResponse
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        response = render(
            request,
            "retros/retro_detail.html#meeting-live",
            {**meeting_context(retro, request.user, can_edit), "poll": True},
        )
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


@require_POST
def finding_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    form = FindingForm(request.POST)
    with transaction.atomic():
        retro = _get_retro_for_writing(request, pk, lock=True)
        if form.is_valid():
            finding = form.save(commit=False)
            finding.retro, finding.author = retro, request.user
            finding.save()
            retro.record_revision(
                request.user, {"finding added": [None, f"{finding.kind}: {finding.text}"]}
            )
            retro.touch()
    if form.is_valid():
        if request.htmx:
            # Only the new item: the quick input it came from stays as it is, focused.
            finding.votes_total = finding.my_votes = 0
            return render(
                request,
                "retros/retro_detail.html#finding-item",
                {
                    "finding": finding,
                    "finding_kinds": Finding.Kind.choices,
                    "retro": retro,
                    "can_edit": True,
                    "grouping": retro.phase == Retrospective.Phase.GROUP
                    and permissions.can_group(request.user, retro),
                    "can_vote": permissions.can_vote(request.user, retro),
                },
            )
        return redirect(retro.get_absolute_url() + f"#quick-{finding.kind}")
    if request.htmx:
        kind = request.POST.get("kind", "")
        response = render(request, "retros/retro_detail.html#quick-errors", {"finding_form": form})
        if kind in Finding.Kind.values:
            response["HX-Retarget"] = f"#quick-error-{kind}"
            response["HX-Reswap"] = "innerHTML"
        else:
            response.status_code = 400
        return response
    return _detail_with_error(request, retro, finding_form=form)


def _detail_with_error(
    request: HtmxHttpRequest, retro: Retrospective, **forms: object
) -> HttpResponse:
    """The retro page again with the rejected input and its errors, status 400."""
    return _render_detail(request, retro, status=400, **forms)


@require_POST
def finding_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Save a finding as it is typed: htmx posts here a moment after each keystroke."""
    with transaction.atomic():
        finding, retro = _finding_for_writing(request, pk)
        form = FindingForm(request.POST, instance=finding)
        old = {"kind": finding.kind, "text": finding.text}
        if form.is_valid():
            changes = {
                name: [old[name], form.cleaned_data[name]]
                for name in ("kind", "text")
                if old[name] != form.cleaned_data[name]
            }
            if changes:
                form.save()
                retro.record_revision(
                    request.user, {f"finding {finding.pk} {k}": v for k, v in changes.items()}
                )
                retro.touch()
    if request.htmx:
        if form.is_valid():
            response = HttpResponse(f"Saved {timezone.localtime():%H:%M:%S}")
            if old["kind"] != form.cleaned_data["kind"]:
                # It belongs in another column now: show the page as it is.
                response["HX-Refresh"] = "true"
            return response
        errors = form.errors.get("text", ["check the kind."])
        return HttpResponse("Not saved: " + " ".join(str(error) for error in errors))
    if form.is_valid():
        messages.success(request, "Finding saved.")
        return redirect(retro)
    edited = {
        "pk": finding.pk,
        "text": request.POST.get("text", ""),
        "kind": request.POST.get("kind", ""),
        "errors": form.errors,
    }
    return _detail_with_error(request, retro, edited=edited)


@require_POST
def finding_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    with transaction.atomic():
        finding, retro = _finding_for_writing(request, pk)
        finding = Finding.objects.select_for_update(of=("self",)).select_related("group").get(pk=pk)
        if not permissions.can_remove_finding(request.user, retro, finding):
            refusal = (
                "This finding is triaged: undo its triage first, then remove it, so the "
                "improvement it joined keeps a true history."
            )
            if request.htmx:
                return HttpResponse(refusal, status=409)
            messages.error(request, refusal)
            return redirect(retro)
        retro.record_revision(
            request.user, {"finding removed": [f"{finding.kind}: {finding.text}", None]}
        )
        group = finding.group
        finding.delete()
        if group is not None:
            group.dissolve_if_alone()
        retro.touch()
    if request.htmx:
        return HttpResponse("")
    return redirect(retro)


@require_POST
def retro_submit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Submit the retro; missing required attendees must be confirmed as absent first."""
    with transaction.atomic():
        retro = _get_retro_for_writing(request, pk, lock=True)
        if retro.is_submitted:
            return redirect(retro)
        missing = retro.missing_attendees()
        if missing and not request.POST.get("confirm_missing"):
            messages.error(
                request,
                "Not submitted yet. Missing: "
                + "; ".join(missing)
                + ". Add them as attendees, or tick “Submit without them”.",
            )
            return redirect(retro)
        retro.submit()
    messages.success(request, "Retro submitted. Now turn its pains and ideas into improvements.")
    return redirect(retro)


@require_safe
def retro_markdown(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The retro as markdown: a page to copy it from, or the bare text with ?format=md."""
    retro = get_object_or_404(
        Retrospective.objects.select_related(
            "duty_week__unit", "duty_week__qa_person", "duty_week__platform_person", "facilitator"
        ),
        pk=pk,
    )
    findings = list(retro.visible_findings(request.user).select_related("author"))
    for finding in findings:
        finding.one_line = " ".join(finding.text.split())
    kinds = [
        (label, [finding for finding in findings if finding.kind == kind])
        for kind, label in Finding.Kind.choices
    ]
    deployments = Deployment.objects.in_week(retro.duty_week)
    text = render_to_string(
        "retros/retro.md",
        {
            "retro": retro,
            "kinds": kinds,
            "attendees": [display_name(user) for user in retro.attendees.order_by("username")],
            "stats": deployments.stats(),
            "site_url": request.build_absolute_uri("/").rstrip("/"),
        },
    )
    if request.GET.get("format") == "md":
        response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
        response["Content-Disposition"] = f'inline; filename="retro-{retro.duty_week.iso_label}.md"'
        return response
    return render(request, "retros/retro_markdown.html", {"retro": retro, "markdown": text})
