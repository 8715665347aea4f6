import datetime

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from retros.models import Deployment
from tests.factories import DeploymentFactory, DutyWeekFactory
from tests.retros.deployment_helpers import form_data


def test_a_unit_member_logs_a_deployment_and_it_joins_its_duty_week(owner_client, owner, unit):
    week = DutyWeekFactory(unit=unit, week_start=datetime.date(2026, 3, 2))
    response = owner_client.post(
        reverse("deployments:deployment_create"),
        form_data(deployer=owner.pk, blocked_minutes="15", blocked_cause="Waiting for the DBA"),
    )
    deployment = Deployment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == deployment.get_absolute_url()
    assert deployment.duty_week == week
    assert deployment.elapsed_minutes == 90
    assert (deployment.hands_on_minutes, deployment.restarts, deployment.manual_steps_done) == (
        40,
        1,
        12,
    )
    assert deployment.deployer == owner
    assert deployment.blocked_cause == "Waiting for the DBA"


def test_the_form_opens_with_the_user_as_deployer(owner_client, owner):
    response = owner_client.get(reverse("deployments:deployment_create"))
    assert response.status_code == 200
    assert response.context["form"].initial["deployer"] == owner


def test_it_refuses_a_finish_before_the_start_and_keeps_what_was_typed(owner_client):
    response = owner_client.post(
        reverse("deployments:deployment_create"),
        form_data(finished_at="2026-03-03T09:00", version="v9"),
    )
    assert response.status_code == 200
    assert "A deployment cannot finish before it starts." in response.content.decode()
    assert response.context["form"]["version"].value() == "v9"
    assert not Deployment.objects.exists()


@pytest.mark.parametrize(
    "field", ["hands_on_minutes", "blocked_minutes", "restarts", "manual_steps_done"]
)
def test_it_refuses_negative_numbers(owner_client, field):
    response = owner_client.post(
        reverse("deployments:deployment_create"), form_data(**{field: "-5"})
    )
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [
        "Ensure this value is greater than or equal to 0."
    ]
    assert not Deployment.objects.exists()


def test_it_refuses_more_blocked_minutes_than_the_deployment_lasted(owner_client):
    response = owner_client.post(
        reverse("deployments:deployment_create"),
        form_data(blocked_minutes="120", blocked_cause="Pipeline queue"),
    )
    assert "longer than the whole deployment (90 minutes)" in response.content.decode()
    assert not Deployment.objects.exists()


def test_it_asks_what_blocked_a_blocked_deployment(owner_client):
    response = owner_client.post(
        reverse("deployments:deployment_create"), form_data(blocked_minutes="10")
    )
    assert response.context["form"].errors["blocked_cause"]
    assert not Deployment.objects.exists()


def test_an_outsider_may_not_log_a_deployment(outsider_client):
    assert outsider_client.get(reverse("deployments:deployment_create")).status_code == 403
    assert (
        outsider_client.post(reverse("deployments:deployment_create"), form_data()).status_code
        == 403
    )
    assert not Deployment.objects.exists()


def test_staff_may_log_a_deployment(client, staff):
    client.force_login(staff)
    assert client.post(reverse("deployments:deployment_create"), form_data()).status_code == 302
    assert Deployment.objects.count() == 1


def test_editing_moves_it_to_the_duty_week_of_its_new_start(owner_client, unit):
    first = DutyWeekFactory(unit=unit, week_start=datetime.date(2026, 3, 2))
    second = DutyWeekFactory(unit=unit, week_start=datetime.date(2026, 3, 9))
    deployment = DeploymentFactory(
        started_at=timezone.make_aware(datetime.datetime(2026, 3, 3, 10)),
        finished_at=timezone.make_aware(datetime.datetime(2026, 3, 3, 10, 45)),
    )
    assert deployment.duty_week == first
    response = owner_client.post(
        reverse("deployments:deployment_edit", args=[deployment.pk]),
        form_data(started_at="2026-03-10T10:00", finished_at="2026-03-10T10:20"),
    )
    assert response.status_code == 302
    deployment.refresh_from_db()
    assert (deployment.duty_week, deployment.elapsed_minutes) == (second, 20)


def test_an_outsider_may_not_edit_a_deployment(outsider_client):
    deployment = DeploymentFactory(version="v1")
    response = outsider_client.post(
        reverse("deployments:deployment_edit", args=[deployment.pk]), form_data(version="hacked")
    )
    assert response.status_code == 403
    deployment.refresh_from_db()
    assert deployment.version == "v1"


def test_the_database_refuses_a_finish_before_the_start(db):
    start = timezone.now()
    with (
        pytest.raises(IntegrityError, match="deployment_finishes_after_start"),
        transaction.atomic(),
    ):
        Deployment.objects.create(started_at=start, finished_at=start - datetime.timedelta(1))


def test_the_database_refuses_negative_minutes(db):
    deployment = DeploymentFactory()
    with pytest.raises(IntegrityError, match="hands_on_minutes"), transaction.atomic():
        Deployment.objects.filter(pk=deployment.pk).update(hands_on_minutes=-1)


def test_the_detail_page_shows_the_figures_to_anyone(outsider_client):
    deployment = DeploymentFactory(hands_on_minutes=33, version="abc123", notes="All fine")
    response = outsider_client.get(deployment.get_absolute_url())
    body = response.content.decode()
    assert response.status_code == 200
    assert "abc123" in body and "All fine" in body and ">33<" in body
    assert reverse("deployments:deployment_edit", args=[deployment.pk]) not in body
