"""Bad input the outside review sent, each answered with a 4xx and a reason, never a 500.

One test per case of issue 18 (item 4); tests/test_hostile_urls.py sweeps the whole class.
"""

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from retros import weeks
from retros.models import Deployment, Retrospective
from retros.weeks import monday_of
from tests.factories import DutyWeekFactory
from tests.retros.github_webhooks import deliver, event


def deployment(**fields) -> str:
    return json.dumps(
        {
            "id": "pipeline-1",
            "startedDate": "2026-03-03T10:00:00+00:00",
            "finishedDate": "2026-03-03T10:42:00+00:00",
            **fields,
        }
    )


@pytest.mark.parametrize("token", ["\x00", "abc\x00def", "../../etc", "é" * 10, "x" * 65])
@pytest.mark.parametrize("feed", ["teams:unit_feed", "teams:person_feed"])
def test_a_feed_address_that_no_token_could_have_is_not_found(client, db, feed, token):
    response = client.get(reverse(feed, args=["placeholder"]).replace("placeholder", token))
    assert response.status_code == 404


def test_searching_for_a_nul_byte_finds_nothing(outsider_client):
    response = outsider_client.get(reverse("triage:improvement_search"), {"q": "\x00"})
    assert response.status_code == 200
    assert response.context["results"] == []


@pytest.mark.parametrize("week", ["next", "1e3", "\x00", "²", "-1"])
def test_starting_a_retro_for_a_week_that_is_not_one_explains_itself(owner_client, week):
    response = owner_client.post(reverse("retros:retro_start"), {"week": week}, follow=True)
    assert response.status_code == 200
    shown = [str(message) for message in response.context["messages"]]
    expected = (
        "Null characters are not allowed." if "\x00" in week else "There is no such duty week"
    )
    assert len(shown) == 1 and shown[0].startswith(expected), shown
    assert not Retrospective.objects.exists()


def test_a_retro_for_a_week_that_has_not_started_cannot_be_started(owner_client, unit):
    next_monday = monday_of(timezone.localdate()) + datetime.timedelta(weeks=1)
    for monday in (next_monday, weeks.parse_iso_week("2999-W10")):
        week = DutyWeekFactory(unit=unit, week_start=monday)
        response = owner_client.post(reverse("retros:retro_start"), {"week": week.pk}, follow=True)
        assert "has not started: its retro opens on" in response.content.decode()
    assert not Retrospective.objects.exists()


def test_a_retro_for_this_week_still_starts(owner_client, duty_week):
    response = owner_client.post(reverse("retros:retro_start"), {"week": duty_week.pk})
    assert response.status_code == 302
    assert Retrospective.objects.filter(duty_week=duty_week).exists()


@pytest.mark.parametrize(
    ("label", "reason"),
    [
        ("9999-W52", "Pick a week between 1970 and 2999."),
        ("0001-W01", "Pick a week between 1970 and 2999."),
        ("2027-W53", "2027-W53 does not exist: 2027 has weeks W01 to W52."),
        ("2026-W00", "2026-W00 does not exist"),
        ("2026-7", "Write the week as YYYY-Www"),
    ],
)
def test_a_weekly_update_for_a_week_that_cannot_be_shown_is_not_found(
    outsider_client, label, reason
):
    response = outsider_client.get(f"/updates/{label}/")
    assert response.status_code == 404
    assert reason in response.content.decode()
    assert weeks.parse_iso_week("2026-W53") == datetime.date(2026, 12, 28)
    with pytest.raises(weeks.WeekError, match=reason):
        weeks.parse_iso_week(label)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"id": "a\x00b"}, "id"),
        ({"notes": "\x00"}, "notes"),
        ({"deploymentCommits": [{"repoUrl": "x\x00", "commitSha": "1"}]}, "deploymentCommits"),
        ({"startedDate": "0001-01-01T00:30:00+01:00"}, "started_at"),
        ({"finishedDate": "9999-12-31T23:30:00-01:00"}, "finished_at"),
        (
            {"startedDate": "1000-01-01T00:00:00Z", "finishedDate": "9000-01-01T00:00:00Z"},
            "started_at",
        ),
    ],
    ids=["nul-id", "nul-notes", "nul-commit", "year-0-in-utc", "year-10000-in-utc", "8000-years"],
)
def test_the_api_refuses_impossible_fields_with_a_reason(api, fields, field):
    response = api.post("/api/deployments", deployment(**fields), content_type="application/json")
    assert response.status_code == 422
    assert any(field in error["field"] for error in response.json()["errors"]), response.json()
    assert not Deployment.objects.exists()


def test_the_api_refuses_a_nul_byte_in_the_external_id_filter(api):
    response = api.get("/api/deployments", {"external_id": "\x00"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.external_id"


def test_the_api_refuses_json_nested_past_the_stack(api):
    response = api.post(
        "/api/deployments", '{"a":' * 10_000 + "1" + "}" * 10_000, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["reason"] == "The body is not valid JSON."


def test_a_signed_webhook_nested_10000_deep_is_a_400(client, db, github_secret):
    response = deliver(client, ('{"a":' * 10_000 + "1" + "}" * 10_000).encode())
    assert response.status_code == 400


def test_a_signed_webhook_holding_a_nul_is_a_422(client, db, github_secret):
    response = deliver(client, event(status={"description": "ok\x00"}))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "deployment_status.description"
    assert not Deployment.objects.exists()


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01"])
@pytest.mark.parametrize("name", ["start", "end"])
def test_a_dashboard_date_outside_the_app_years_is_explained(outsider_client, name, value):
    response = outsider_client.get(reverse("reporting:dashboard"), {name: value})
    assert response.status_code == 200
    assert "Pick a date between 1970 and 2999." in response.content.decode()
    for panel in ("wip", "cfd"):
        response = outsider_client.get(
            reverse("reporting:dashboard_csv", args=[panel]), {name: value}
        )
        assert response.status_code == 200


@pytest.mark.parametrize("updated_at", ["0001-01-01T00:00:00+05:00", "2999-01-01T00:00:00Z"])
def test_a_signed_webhook_whose_status_time_cannot_be_is_a_422(
    client, db, github_secret, updated_at
):
    response = deliver(client, event(status={"updated_at": updated_at}))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "github_status_at"
    assert not Deployment.objects.exists()
