"""A deployment is logged once it has run: times two months ahead (a mistyped year or month)
are refused with a reason, by hand and by the API; a day of slack covers time zones."""

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from retros.models import ApiToken, Deployment
from tests.retros.deployment_helpers import form_data


def local(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_a_deployment_two_months_ahead_is_refused_with_a_reason(owner_client):
    start = timezone.now() + datetime.timedelta(days=61)
    response = owner_client.post(
        reverse("deployments:deployment_create"),
        form_data(started_at=local(start), finished_at=local(start + datetime.timedelta(hours=1))),
    )
    assert response.status_code == 200  # the form again, with the reason
    page = response.content.decode()
    assert "days from now: log a deployment once it has run (check the date)." in page
    assert not Deployment.objects.exists()


def test_a_deployment_a_few_hours_ahead_is_taken_for_a_clock_or_time_zone(owner_client):
    start = timezone.now() + datetime.timedelta(hours=5)
    response = owner_client.post(
        reverse("deployments:deployment_create"),
        form_data(started_at=local(start), finished_at=local(start + datetime.timedelta(hours=1))),
    )
    assert response.status_code == 302
    assert Deployment.objects.count() == 1


@pytest.mark.parametrize("year", ["1969", "3000"])
def test_a_deployment_outside_the_app_years_is_refused(owner_client, year):
    response = owner_client.post(
        reverse("deployments:deployment_create"),
        form_data(started_at=f"{year}-03-03T10:00", finished_at=f"{year}-03-03T11:00"),
    )
    assert response.status_code == 200  # the form again, with the reason
    assert "Give a time between 1970 and 2999." in response.content.decode()


def test_the_api_refuses_a_deployment_two_months_ahead(client, db):
    _, key = ApiToken.issue("CI")
    start = timezone.now() + datetime.timedelta(days=60)
    response = client.post(
        "/api/deployments",
        json.dumps(
            {
                "id": "pipeline-9",
                "startedDate": start.isoformat(),
                "finishedDate": (start + datetime.timedelta(minutes=30)).isoformat(),
            }
        ),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"started_at", "finished_at"}
    assert not Deployment.objects.exists()
