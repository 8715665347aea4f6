import datetime
import json

import pytest
from django.test import Client
from django.utils import timezone

from retros.models import Deployment
from tests.factories import DeploymentFactory, DutyWeekFactory
from tests.threads import at_once

URL = "/api/deployments"


def devlake(**overrides):
    """A deployment as DevLake's incoming webhook documents it."""
    payload = {
        "id": "pipeline-4711",
        "displayTitle": "Release 2026.03.1",
        "result": "SUCCESS",
        "environment": "PRODUCTION",
        "startedDate": "2026-03-03T10:00:00+00:00",
        "finishedDate": "2026-03-03T10:42:00+00:00",
        "deploymentCommits": [
            {
                "repoUrl": "https://github.com/example/shop",
                "commitSha": "015e3d3b480e417aede5a1293bd61de9b0fd051d",
                "startedDate": "2026-03-03T10:00:00+00:00",
                "finishedDate": "2026-03-03T10:42:00+00:00",
            }
        ],
    }
    payload.update(overrides)
    return payload


def post(client, payload, **extra):
    body = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
    return client.post(URL, body, content_type="application/json", **extra)


def test_it_records_a_devlake_deployment(api, unit):
    week = DutyWeekFactory(unit=unit, week_start=datetime.date(2026, 3, 2))
    response = post(api, devlake())
    assert response.status_code == 201
    deployment = Deployment.objects.get()
    assert deployment.external_id == "pipeline-4711"
    assert deployment.version == "015e3d3b480e417aede5a1293bd61de9b0fd051d"
    assert deployment.repo_url == "https://github.com/example/shop"
    assert deployment.elapsed_minutes == 42
    assert deployment.duty_week == week
    assert deployment.trigger == Deployment.Trigger.SCRIPTED
    assert deployment.notes == "Release 2026.03.1"
    body = response.json()
    assert body["id"] == deployment.pk and body["duty_week"] == "2026-W10"
    assert body["url"].endswith(deployment.get_absolute_url())


def test_it_accepts_the_older_snake_case_devlake_fields(api):
    response = post(
        api,
        {
            "pipeline_id": "old-1",
            "repo_url": "https://gitlab.example.com/shop",
            "commit_sha": "abc123",
            "start_time": "2026-03-03T12:00:00+00:00",
            "end_time": "2026-03-03T12:59:59+00:00",
            "environment": "STAGING",
            "result": "FAILURE",
        },
    )
    assert response.status_code == 201
    deployment = Deployment.objects.get(external_id="old-1")
    assert (deployment.environment, deployment.result, deployment.version) == (
        "staging",
        "failure",
        "abc123",
    )


def test_it_takes_our_own_figures_too(api):
    response = post(
        api,
        devlake(
            hands_on_minutes=25,
            blocked_minutes=10,
            blocked_cause="Waiting for approval",
            restarts=2,
            manual_steps_done=7,
            trigger="one_button",
            notes="Rolled forward",
        ),
    )
    assert response.status_code == 201
    deployment = Deployment.objects.get()
    assert (
        deployment.hands_on_minutes,
        deployment.blocked_minutes,
        deployment.blocked_cause,
        deployment.restarts,
        deployment.manual_steps_done,
        deployment.trigger,
        deployment.notes,
    ) == (25, 10, "Waiting for approval", 2, 7, "one_button", "Rolled forward")


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("SUCCESS", "success"),
        ("FAILURE", "failure"),
        ("ABORT", "aborted"),
        ("MANUAL", "aborted"),
        ("ROLLED_BACK", "rolled_back"),
    ],
)
def test_it_maps_every_result(api, sent, stored):
    assert post(api, devlake(result=sent)).status_code == 201
    assert Deployment.objects.get().result == stored


def test_a_manual_result_is_explained_in_the_notes(api):
    post(api, devlake(result="MANUAL", displayTitle=""))
    assert "MANUAL" in Deployment.objects.get().notes


def test_an_unknown_result_is_refused(api):
    response = post(api, devlake(result="MAYBE"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "result"
    assert not Deployment.objects.exists()


def test_sending_the_same_pipeline_again_updates_it(api):
    assert post(api, devlake(hands_on_minutes=30)).status_code == 201
    response = post(api, devlake(result="FAILURE", finishedDate="2026-03-03T11:00:00+00:00"))
    assert response.status_code == 200
    deployment = Deployment.objects.get()
    assert (deployment.result, deployment.elapsed_minutes) == ("failure", 60)
    # Fields not sent again are kept, so figures typed in later by hand survive.
    assert deployment.hands_on_minutes == 30


def test_an_update_keeps_a_trigger_set_by_hand(api):
    post(api, devlake())
    Deployment.objects.update(trigger=Deployment.Trigger.ONE_BUTTON)
    post(api, devlake())
    assert Deployment.objects.get().trigger == Deployment.Trigger.ONE_BUTTON


@pytest.mark.django_db(transaction=True)
def test_identical_concurrent_posts_store_one_deployment(ci_token):
    _, key = ci_token
    clients = [Client(HTTP_AUTHORIZATION=f"Bearer {key}") for _ in range(4)]
    answers = at_once([lambda client=client: post(client, devlake()) for client in clients])
    assert sorted(answer.status_code for answer in answers) == [200, 200, 200, 201]
    assert Deployment.objects.filter(external_id="pipeline-4711").count() == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer wb_not-a-real-token"},
        {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"},
        {"HTTP_AUTHORIZATION": "Bearer "},
    ],
    ids=["no token", "wrong token", "wrong scheme", "empty token"],
)
def test_it_refuses_a_request_without_a_valid_token(client, db, headers):
    response = post(client, devlake(), **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert "token" in response.json()["reason"]
    assert not Deployment.objects.exists()


def test_it_refuses_a_revoked_token(client, ci_token):
    api_token, key = ci_token
    api_token.revoked_at = timezone.now()
    api_token.save()
    response = post(client, devlake(), HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 401
    assert not Deployment.objects.exists()


def test_a_used_token_records_when(api, ci_token):
    post(api, devlake())
    ci_token[0].refresh_from_db()
    assert ci_token[0].last_used_at is not None


def test_a_session_login_is_not_enough(client, owner):
    client.force_login(owner)
    assert post(client, devlake()).status_code == 401


@pytest.mark.parametrize("body", ["{not json", '{"id": "x",', "", "\x00\x01"])
def test_malformed_json_is_a_400_with_a_reason(api, body):
    response = post(api, body)
    assert response.status_code in (400, 422)
    if body:
        assert response.status_code == 400
        assert response.json()["reason"] == "The body is not valid JSON."
    assert not Deployment.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("startedDate", "yesterday"),
        ("finishedDate", None),
        ("id", {"nested": 1}),
        ("id", ""),
        ("hands_on_minutes", "lots"),
        ("hands_on_minutes", "12"),
        ("hands_on_minutes", 12.5),
        ("hands_on_minutes", -3),
        ("restarts", True),
        ("environment", "MOON"),
        ("trigger", "telepathy"),
        ("deploymentCommits", "abc"),
    ],
)
def test_wrong_types_are_a_422_naming_the_field(api, field, value):
    response = post(api, devlake(**{field: value}))
    assert response.status_code == 422
    body = response.json()
    assert body["reason"]
    assert body["errors"] and body["errors"][0]["field"].startswith(field)
    assert not Deployment.objects.exists()


def test_a_body_that_is_not_an_object_is_a_422(api):
    assert post(api, [devlake()]).status_code == 422


def test_a_finish_before_the_start_is_refused_whole(api):
    response = post(api, devlake(finishedDate="2026-03-03T09:00:00+00:00"))
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "", "message": "A deployment cannot finish before it starts."}
    ]
    assert not Deployment.objects.exists()


def test_a_bad_update_leaves_the_stored_deployment_alone(api):
    post(api, devlake())
    response = post(api, devlake(finishedDate="2026-03-03T09:00:00+00:00", result="FAILURE"))
    assert response.status_code == 422
    deployment = Deployment.objects.get()
    assert (deployment.result, deployment.elapsed_minutes) == ("success", 42)


def test_a_repo_url_that_is_not_a_url_is_refused(api):
    response = post(api, devlake(deploymentCommits=[{"repoUrl": "devlake", "commitSha": "x"}]))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "repo_url"


def test_an_oversized_body_is_a_413(api):
    response = post(api, devlake(notes="x" * (70 * 1024)))
    assert response.status_code == 413
    assert "larger than" in response.json()["reason"]
    assert not Deployment.objects.exists()


def test_a_testing_deployment_is_acknowledged_but_not_stored(api):
    response = post(api, devlake(environment="TESTING"))
    assert response.status_code == 202
    assert response.json()["stored"] is False
    assert not Deployment.objects.exists()


def test_a_naive_time_is_read_in_the_server_time_zone(api):
    post(api, devlake(startedDate="2026-03-03T10:00:00", finishedDate="2026-03-03T10:05:00"))
    deployment = Deployment.objects.get()
    assert timezone.localtime(deployment.started_at).hour == 10


def test_it_reads_a_deployment_back(api):
    deployment = DeploymentFactory(version="v7")
    response = api.get(f"/api/deployments/{deployment.pk}")
    assert response.status_code == 200
    assert response.json()["version"] == "v7"
    assert api.get("/api/deployments/999999").status_code == 404


def test_it_lists_deployments_by_sender_id(api):
    post(api, devlake())
    DeploymentFactory()
    response = api.get(URL, {"external_id": "pipeline-4711"})
    assert [row["external_id"] for row in response.json()] == ["pipeline-4711"]
    assert len(api.get(URL).json()) == 2


def test_reading_needs_a_token_too(client, db):
    assert client.get(URL).status_code == 401


def test_the_openapi_description_is_published(client, db):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert {"/api/deployments", "/api/webhooks/github"} <= set(document["paths"])
    fields = document["components"]["schemas"]["DeploymentIn"]["properties"]
    assert {"id", "startedDate", "finishedDate", "result", "deploymentCommits"} <= set(fields)
