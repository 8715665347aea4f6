"""Views for weekly deployment retros."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from .forms import FindingForm, RetroForm
from .models import Deployment, DutyWeek, Finding, Retrospective, monday_of


def _get_retro_for_writing(request: HttpRequest, pk: int) -> Retrospective:
    retro = get_object_or_404(Retrospective.objects.select_related("duty_week__unit"), pk=pk)
    if not retro.can_edit(request.user):
        raise PermissionDenied("Only the people on duty that week (or staff) may edit this retro.")
    return retro


def retro_list(request: HttpRequest) -> HttpResponse:
    retros = (
        Retrospective.objects.select_related("duty_week__unit", "facilitator")
        .prefetch_related("findings")
        .order_by("-duty_week__week_start")
    )
    this_week = DutyWeek.objects.select_related("unit").current()
    return render(
        request,
        "retros/retro_list.html",
        {
            "retros": retros,
            "this_week": this_week,
            "this_week_retro": Retrospective.objects.filter(duty_week=this_week).first()
            if this_week
            else None,
        },
    )


@require_POST
def retro_start(request: HttpRequest) -> HttpResponse:
    """Open this week's retro, creating it pre-filled from the duty week the first time."""
    week = (
        DutyWeek.objects.select_related("unit")
        .filter(week_start=monday_of(timezone.localdate()))
        .first()
    )
    if week is None:
        messages.error(request, "No unit is on deployment duty this week, so there is no retro.")
        return redirect("retro_list")
    existing = Retrospective.objects.filter(duty_week=week).first()
    if existing:
        return redirect(existing)
    if not (request.user.is_staff or week.involves(request.user)):
        raise PermissionDenied("Only the people on duty this week may start its retro.")
    with transaction.atomic():
        retro, created = Retrospective.objects.get_or_create(
            duty_week=week, defaults={"facilitator": request.user}
        )
        if created:
            people = {request.user.pk, week.qa_person_id, week.platform_person_id}
            retro.attendees.add(*[pk for pk in people if pk])
    return redirect(retro)


def retro_detail(request: HttpRequest, pk: int) -> HttpResponse:
    retro = get_object_or_404(
        Retrospective.objects.select_related(
            "duty_week__unit", "duty_week__qa_person", "duty_week__platform_person", "facilitator"
        ),
        pk=pk,
    )
    can_edit = retro.can_edit(request.user)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Only the people on duty that week (or staff) may edit it.")
        form = RetroForm(request.POST, instance=retro)
        if form.is_valid():
            form.save()
            messages.success(request, "Retro saved.")
            return redirect(retro)
    else:
        form = RetroForm(instance=retro)
    deployments = Deployment.objects.in_week(retro.duty_week)
    return render(
        request,
        "retros/retro_detail.html",
        {
            "retro": retro,
            "form": form,
            "can_edit": can_edit,
            "finding_form": FindingForm(),
            "findings": retro.findings.select_related("author"),
            "deployments": deployments.select_related("deployer"),
            "deployment_stats": deployments.stats(),
        },
    )


@require_POST
def finding_add(request: HttpRequest, pk: int) -> HttpResponse:
    retro = _get_retro_for_writing(request, pk)
    form = FindingForm(request.POST)
    if form.is_valid():
        finding = form.save(commit=False)
        finding.retro, finding.author = retro, request.user
        finding.save()
        if request.htmx:
            return render(
                request,
                "retros/retro_detail.html#finding-added",
                {
                    "finding": finding,
                    "retro": retro,
                    "can_edit": True,
                    "finding_form": FindingForm(),
                },
            )
        return redirect(retro)
    if request.htmx:
        response = render(
            request,
            "retros/retro_detail.html#finding-form",
            {"retro": retro, "finding_form": form},
        )
        response["HX-Retarget"] = "#finding-form"
        response["HX-Reswap"] = "outerHTML"
        return response
    messages.error(request, "The finding was not added: " + " ".join(form.errors.get("text", [])))
    return redirect(retro)


@require_POST
def finding_delete(request: HttpRequest, pk: int) -> HttpResponse:
    finding = get_object_or_404(Finding, pk=pk)
    retro = _get_retro_for_writing(request, finding.retro_id)
    finding.delete()
    if request.htmx:
        return HttpResponse("")
    return redirect(retro)


@require_POST
def retro_submit(request: HttpRequest, pk: int) -> HttpResponse:
    retro = _get_retro_for_writing(request, pk)
    if not retro.is_submitted:
        retro.submit()
        messages.success(
            request, "Retro submitted. Now turn its pains and ideas into improvements."
        )
    if request.htmx:
        return HttpResponseClientRedirect(retro.get_absolute_url())
    return redirect(retro)
