"""A deployment logged before its duty week was planned joins that week once it is planned."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from retros import rotation
from retros.models import Deployment, DutyWeek, Unit
from tests.factories import (
    DeploymentFactory,
    DutyWeekFactory,
    RetrospectiveFactory,
    UnitFactory,
    UserFactory,
    this_monday,
)


@pytest.fixture
def alpha(db):
    UnitFactory(name="QA", kind=Unit.Kind.QA, members=[UserFactory(username="qa1")])
    UnitFactory(name="Platform", kind=Unit.Kind.PLATFORM, members=[UserFactory(username="p1")])
    return UnitFactory(name="Alpha")


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def deployment_in(monday: datetime.date, version: str) -> Deployment:
    zone = timezone.get_current_timezone()
    started = datetime.datetime.combine(monday, datetime.time(10), tzinfo=zone)
    return DeploymentFactory(
        started_at=started, finished_at=started + datetime.timedelta(minutes=40), version=version
    )


def listed_for_unit(client, unit, version: str) -> bool:
    # The log lists deployments by date; the version is on each deployment's page.
    page = client.get(reverse("deployments:deployment_list"), {"unit": unit.pk}).context["page"]
    return version in [deployment.version for deployment in page.object_list]


def test_planning_the_week_links_a_deployment_logged_before(staff_client, alpha):
    deployment = deployment_in(this_monday(), "v-early-1")
    assert deployment.duty_week is None
    assert "No unit was on duty" in staff_client.get(deployment.get_absolute_url()).text

    response = staff_client.post(reverse("teams:rotation_generate"), {"weeks": 2})

    assert response.status_code == 302
    week = DutyWeek.objects.get(week_start=this_monday())
    deployment.refresh_from_db()
    assert deployment.duty_week == week
    detail = staff_client.get(deployment.get_absolute_url()).text
    assert f"{week.iso_label} · Alpha" in detail
    assert listed_for_unit(staff_client, alpha, "v-early-1")
    retro = RetrospectiveFactory(duty_week=week)
    page = staff_client.get(retro.get_absolute_url()).text
    assert "1 deployment," in page


def test_planning_links_only_the_weeks_it_plans(alpha):
    this_week = deployment_in(this_monday(), "v-now")
    far = deployment_in(this_monday() + datetime.timedelta(weeks=10), "v-later")

    rotation.generate(1)

    assert Deployment.objects.get(pk=this_week.pk).duty_week is not None
    assert Deployment.objects.get(pk=far.pk).duty_week is None


def test_editing_a_week_links_deployments_it_did_not_have(staff_client, alpha):
    week = DutyWeekFactory(unit=alpha)
    deployment = deployment_in(week.week_start, "v-edit-1")
    Deployment.objects.filter(pk=deployment.pk).update(duty_week=None)  # as logged before
    beta = UnitFactory(name="Beta")

    response = staff_client.post(
        reverse("teams:duty_week_edit", args=[week.pk]),
        {"unit": beta.pk, "qa_person": "", "platform_person": ""},
    )

    assert response.status_code == 302
    assert Deployment.objects.get(pk=deployment.pk).duty_week == week
    assert listed_for_unit(staff_client, beta, "v-edit-1")
    assert not listed_for_unit(staff_client, alpha, "v-edit-1")


def test_moving_a_week_in_the_admin_takes_its_deployments_along(admin_client, alpha):
    old_monday = this_monday() + datetime.timedelta(weeks=3)
    new_monday = old_monday + datetime.timedelta(weeks=1)
    week = DutyWeekFactory(unit=alpha, week_start=old_monday)
    left_behind = deployment_in(old_monday, "v-old")
    joining = deployment_in(new_monday, "v-new")
    assert Deployment.objects.get(pk=left_behind.pk).duty_week == week

    response = admin_client.post(
        reverse("admin:retros_dutyweek_change", args=[week.pk]),
        {"week_start": new_monday.isoformat(), "unit": alpha.pk},
    )

    assert response.status_code == 302, response.content
    assert Deployment.objects.get(pk=left_behind.pk).duty_week is None
    assert Deployment.objects.get(pk=joining.pk).duty_week == week


def test_swapping_weeks_links_their_deployments_and_the_unit_filter_follows(staff_client, alpha):
    UnitFactory(name="Beta")
    first, second = rotation.generate(2)
    deployment = deployment_in(second.week_start, "v-swap-1")
    Deployment.objects.filter(pk=deployment.pk).update(duty_week=None)  # as logged before
    beta_unit = second.unit

    response = staff_client.post(
        reverse("teams:rotation_swap"), {"first": first.pk, "second": second.pk}
    )

    assert response.status_code == 302
    assert Deployment.objects.get(pk=deployment.pk).duty_week == second
    assert listed_for_unit(staff_client, alpha, "v-swap-1")
    assert not listed_for_unit(staff_client, beta_unit, "v-swap-1")


def test_relinking_counts_only_what_changed(alpha):
    week = DutyWeekFactory(unit=alpha)
    deployment_in(week.week_start, "v-1")

    assert DutyWeek.objects.filter(pk=week.pk).link_deployments() == 0
    Deployment.objects.update(duty_week=None)
    assert DutyWeek.objects.filter(pk=week.pk).link_deployments() == 1
