"""Views for units, their members, the duty rotation and the secret calendar feed URLs."""

import datetime

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from .. import rotation
from ..forms.teams import DutyWeekForm, GenerateRotationForm, MemberAddForm, SwapForm, UnitForm
from ..http import HtmxHttpRequest
from ..models import DutyWeek, DutyWeekQuerySet, PersonFeed, Retrospective, Unit
from ..permissions import can_manage_rotation, can_renew_unit_feed
from ..weeks import monday_of


def _require_manager(request: HtmxHttpRequest) -> None:
    if not can_manage_rotation(request.user):
        raise PermissionDenied("Only staff and the platform team manage units and the rotation.")


def _feed_url(request: HtmxHttpRequest, name: str, token: str) -> str:
    return request.build_absolute_uri(reverse(name, args=[token]))


def _unit_list_page(request: HtmxHttpRequest, form: UnitForm | None = None) -> HttpResponse:
    units = Unit.objects.annotate(member_count=Count("members")).order_by("-is_active", "name")
    can_manage = can_manage_rotation(request.user)
    return render(
        request,
        "retros/unit_list.html",
        {"units": units, "can_manage": can_manage, "form": form or UnitForm()},
        status=400 if form is not None else 200,
    )


@require_safe
def unit_list(request: HtmxHttpRequest) -> HttpResponse:
    """The units and their members."""
    return _unit_list_page(request)


@require_POST
def unit_create(request: HtmxHttpRequest) -> HttpResponse:
    _require_manager(request)
    form = UnitForm(request.POST)
    if not form.is_valid():
        return _unit_list_page(request, form=form)
    unit = form.save()
    messages.success(request, f"Unit “{unit}” created. Now add its members.")
    return redirect(unit)


def _unit_detail_page(
    request: HtmxHttpRequest, pk: int, form: UnitForm | None = None
) -> HttpResponse:
    unit = get_object_or_404(Unit, pk=pk)
    can_manage = can_manage_rotation(request.user)
    today = monday_of(timezone.localdate())
    return render(
        request,
        "retros/unit_detail.html",
        {
            "unit": unit,
            "members": unit.members.order_by("username"),
            "can_manage": can_manage,
            "feed_url": _feed_url(request, "teams:unit_feed", unit.feed_token),
            "form": form or UnitForm(instance=unit),
            "member_form": MemberAddForm(unit=unit),
            "upcoming": unit.duty_weeks.filter(week_start__gte=today).order_by("week_start")[:8],
            "retros": Retrospective.objects.filter(duty_week__unit=unit)
            .select_related("duty_week")
            .order_by("-duty_week__week_start")[:10],
        },
        status=400 if form is not None else 200,
    )


@require_safe
def unit_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """One unit: its members, duty weeks and calendar feed."""
    return _unit_detail_page(request, pk)


@require_POST
def unit_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    unit = get_object_or_404(Unit, pk=pk)
    was_active = unit.is_active
    form = UnitForm(request.POST, instance=unit)
    if not form.is_valid():
        return _unit_detail_page(request, pk, form=form)
    with transaction.atomic():
        deactivating = was_active and not form.cleaned_data["is_active"]
        unit = form.save()
        replanned = rotation.deactivate(unit) if deactivating else 0
    if deactivating:
        messages.success(
            request,
            f"“{unit}” left the rotation."
            + (f" {replanned} planned weeks went to other units." if replanned else ""),
        )
    else:
        messages.success(request, "Unit saved.")
    return redirect(unit)


@require_POST
def unit_member_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    unit = get_object_or_404(Unit, pk=pk)
    form = MemberAddForm(request.POST, unit=unit)
    if form.is_valid():
        unit.members.add(form.cleaned_data["user"])
        messages.success(request, f"{form.cleaned_data['user']} joined {unit}.")
    else:
        messages.error(request, "Choose a person who is not yet a member.")
    return redirect(unit)


@require_POST
def unit_member_remove(request: HtmxHttpRequest, pk: int, user_pk: int) -> HttpResponse:
    _require_manager(request)
    unit = get_object_or_404(Unit, pk=pk)
    user = get_object_or_404(get_user_model(), pk=user_pk)
    unit.members.remove(user)  # renews the unit's feed URL (see retros/models/teams.py)
    messages.success(
        request,
        f"{user} left {unit}. The unit's calendar feed has a new address, so members "
        "subscribed to the old one subscribe again.",
    )
    return redirect(unit)


@require_POST
def unit_feed_regenerate(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    unit = get_object_or_404(Unit, pk=pk)
    if not can_renew_unit_feed(request.user, unit):
        raise PermissionDenied("Only the unit's members may renew its calendar feed.")
    unit.regenerate_feed_token()
    messages.success(request, "New feed URL made; the old one no longer works.")
    return redirect(unit)


def _rotation_page(
    request: HtmxHttpRequest,
    generate_form: GenerateRotationForm | None = None,
    swap_form: SwapForm | None = None,
) -> HttpResponse:
    this_monday = monday_of(timezone.localdate())
    weeks = (
        DutyWeek.objects.select_related("unit", "qa_person", "platform_person", "retro")
        .filter(week_start__gte=this_monday - datetime.timedelta(weeks=4))
        .order_by("week_start")
    )
    feed = PersonFeed.for_user(request.user)
    can_manage = can_manage_rotation(request.user)
    return render(
        request,
        "retros/rotation.html",
        {
            "weeks": weeks,
            "this_monday": this_monday,
            "can_manage": can_manage,
            "generate_form": generate_form or GenerateRotationForm(),
            "swap_form": swap_form or SwapForm(weeks=_swappable_weeks()),
            "feed_url": _feed_url(request, "teams:person_feed", feed.token),
        },
        status=400 if generate_form or swap_form else 200,
    )


@require_safe
def rotation_page(request: HtmxHttpRequest) -> HttpResponse:
    """The duty rotation: recent and planned weeks, and the viewer's own calendar feed."""
    return _rotation_page(request)


def _swappable_weeks() -> DutyWeekQuerySet:
    return DutyWeek.objects.select_related("unit").filter(
        week_start__gte=monday_of(timezone.localdate()), retro__isnull=True
    )


@require_POST
def rotation_generate(request: HtmxHttpRequest) -> HttpResponse:
    _require_manager(request)
    form = GenerateRotationForm(request.POST)
    if not form.is_valid():
        return _rotation_page(request, generate_form=form)
    try:
        created = rotation.generate(form.cleaned_data["weeks"])
    except rotation.RotationError as error:
        form.add_error(None, str(error))
        return _rotation_page(request, generate_form=form)
    if created:
        messages.success(request, f"Planned {len(created)} more weeks.")
    else:
        messages.info(request, "Those weeks were already planned; edit or swap them below.")
    return redirect("teams:rotation")


@require_POST
def rotation_swap(request: HtmxHttpRequest) -> HttpResponse:
    _require_manager(request)
    form = SwapForm(request.POST, weeks=_swappable_weeks())
    if not form.is_valid():
        return _rotation_page(request, swap_form=form)
    try:
        rotation.swap(form.cleaned_data["first"], form.cleaned_data["second"])
    except rotation.RotationError as error:
        form.add_error(None, str(error))
        return _rotation_page(request, swap_form=form)
    messages.success(request, "Swapped.")
    return redirect("teams:rotation")


def duty_week_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    week = get_object_or_404(DutyWeek.objects.select_related("unit"), pk=pk)
    if request.method == "POST":
        _require_manager(request)
        form = DutyWeekForm(request.POST, instance=week)
        if form.is_valid():
            form.save()
            messages.success(request, f"Week {week.iso_label} saved.")
            return redirect("teams:rotation")
    else:
        _require_manager(request)
        form = DutyWeekForm(instance=week)
    return render(
        request,
        "retros/duty_week_form.html",
        {"week": week, "form": form},
        status=400 if form.errors else 200,
    )


@require_POST
def person_feed_regenerate(request: HtmxHttpRequest) -> HttpResponse:
    PersonFeed.for_user(request.user).regenerate()
    messages.success(request, "New feed URL made; the old one no longer works.")
    return redirect("teams:rotation")
