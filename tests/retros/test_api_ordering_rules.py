"""The webhook's ordering rules and the API's refusals, pinned exactly (found by make mutate).

A status is ordered by its own updated_at, then by its id; a delivery already applied changes
nothing; what is stored after each apply is the status that won.
"""

import datetime
import json

import pytest

from retros.models import Deployment
from tests.factories import DeploymentFactory
from tests.retros.github_webhooks import URL as WEBHOOK
from tests.retros.github_webhooks import deliver, event, sign

AT_10_40 = "2026-03-03T10:40:00Z"
AT_10_50 = "2026-03-03T10:50:00Z"
STALE = {
    "reason": "A newer status of this deployment is already recorded; this one changes nothing.",
    "stored": False,
}


pytestmark = pytest.mark.usefixtures("github_secret")


def status(status_id, updated_at, created_at=AT_10_40):
    return {"id": status_id, "created_at": created_at, "updated_at": updated_at}


def stored() -> Deployment:
    return Deployment.objects.get(external_id="github:326191728")


def utc(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


def test_an_applied_status_stores_its_moment_id_and_delivery(client, db):
    deliver(client, event("failure", status(1001, AT_10_50)), delivery="6f1c-AB12-cd34")

    deployment = stored()
    assert deployment.github_status_at == utc(AT_10_50)
    assert deployment.github_status_id == 1001
    assert deployment.github_delivery == "6f1c-AB12-cd34"


def test_a_newer_status_replaces_the_stored_moment_id_and_delivery(client, db):
    deliver(client, event("failure", status(1001, AT_10_40)), delivery="first-guid")

    response = deliver(client, event("success", status(1002, AT_10_50)), delivery="second-guid")

    assert response.status_code == 200
    deployment = stored()
    assert deployment.result == Deployment.Result.SUCCESS
    assert (deployment.github_status_at, deployment.github_status_id) == (utc(AT_10_50), 1002)
    assert deployment.github_delivery == "second-guid"


def test_statuses_are_ordered_by_their_updated_at_not_their_created_at(client, db):
    # Created first but updated last: the later update is the newer status.
    deliver(client, event("failure", status(1002, AT_10_40, created_at=AT_10_40)))

    response = deliver(
        client, event("success", status(1001, AT_10_50, created_at="2026-03-03T10:30:00Z"))
    )

    assert response.status_code == 200
    assert stored().result == Deployment.Result.SUCCESS


def test_an_older_status_answers_202_with_its_reason_and_leaves_every_field(client, db):
    deliver(client, event("success", status(1002, AT_10_50)), delivery="newer-guid")

    response = deliver(
        client,
        event("failure", {**status(1001, AT_10_40), "description": "older"}),
        delivery="older-guid",
    )

    assert response.status_code == 202
    assert response.json() == STALE
    deployment = stored()
    assert deployment.result == Deployment.Result.SUCCESS
    assert deployment.notes == "Deployed by the release workflow"
    assert (deployment.github_status_at, deployment.github_status_id) == (utc(AT_10_50), 1002)
    assert deployment.github_delivery == "newer-guid"


def test_a_delivery_already_applied_changes_nothing_even_with_a_newer_status(client, db):
    deliver(client, event("failure", status(1001, AT_10_40)), delivery="same-guid")

    response = deliver(client, event("success", status(1002, AT_10_50)), delivery="same-guid")

    assert response.status_code == 202
    assert stored().result == Deployment.Result.FAILURE
    assert stored().github_status_id == 1001


def test_at_the_same_second_the_same_status_id_changes_nothing(client, db):
    deliver(client, event("success", status(1002, AT_10_50)))

    assert deliver(client, event("failure", status(1002, AT_10_50))).status_code == 202
    assert stored().result == Deployment.Result.SUCCESS


def test_at_the_same_second_a_higher_status_id_is_applied(client, db):
    deliver(client, event("success", status(1002, AT_10_50)))

    assert deliver(client, event("failure", status(1003, AT_10_50))).status_code == 200
    assert stored().result == Deployment.Result.FAILURE
    assert stored().github_status_id == 1003


def test_at_the_same_second_a_status_without_an_id_changes_nothing(client, db):
    deliver(client, event("success", status(1002, AT_10_50)))

    response = deliver(client, event("failure", {**status(None, AT_10_50)}))

    assert response.status_code == 202
    assert stored().result == Deployment.Result.SUCCESS


def test_at_the_same_second_a_status_after_one_without_an_id_changes_nothing(client, db):
    deliver(client, event("success", status(None, AT_10_50)))

    assert deliver(client, event("failure", status(1003, AT_10_50))).status_code == 202
    assert stored().result == Deployment.Result.SUCCESS


def test_a_deployment_recorded_before_ordering_takes_even_an_old_status(client, db):
    DeploymentFactory(external_id="github:326191728", result=Deployment.Result.SUCCESS)

    response = deliver(
        client, event("failure", status(1, "2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z"))
    )

    assert response.status_code == 200
    assert stored().result == Deployment.Result.FAILURE
    assert stored().github_status_id == 1


def post_without_delivery(client, payload):
    body = json.dumps(payload).encode()
    return client.post(
        WEBHOOK,
        body,
        content_type="application/json",
        HTTP_X_GITHUB_EVENT="deployment_status",
        HTTP_X_HUB_SIGNATURE_256=sign(body),
    )


def test_a_status_without_a_delivery_header_is_stored_without_one(client, db):
    response = post_without_delivery(client, event("success", status(1001, AT_10_50)))

    assert response.status_code == 201
    assert stored().github_delivery == ""


@pytest.mark.parametrize("delivery", ["abcdef-0123", "ABCDEF-0123", "72d3162e-cc78-11e3-81ab"])
def test_a_delivery_of_letters_digits_and_dashes_in_either_case_is_stored(client, db, delivery):
    deliver(client, event("success", status(1001, AT_10_50)), delivery=delivery)

    assert stored().github_delivery == delivery


# --- The deployments API's refusals -----------------------------------------------------------


def post(client, **fields):
    payload = {
        "id": "pipeline-1",
        "startedDate": "2026-03-03T10:00:00+00:00",
        "finishedDate": "2026-03-03T10:30:00+00:00",
        **fields,
    }
    return client.post("/api/deployments", json.dumps(payload), content_type="application/json")


def test_a_ci_post_with_a_github_id_is_refused_with_the_reason(api):
    response = post(api, id="github:1")

    assert response.status_code == 422
    assert response.json() == {
        "reason": "The deployment is not possible as sent.",
        "errors": [
            {
                "field": "id",
                "message": "Ids starting with 'github:' are kept for the GitHub webhook; "
                "send your own pipeline id.",
            }
        ],
    }
    assert not Deployment.objects.exists()


@pytest.mark.parametrize("field", ["id", "notes", "blocked_cause"])
def test_a_nul_character_in_any_text_is_refused_naming_the_field(api, field):
    response = post(api, **{field: "a\x00b"})

    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == [field]
    assert errors[0]["message"] == "Value error, must not contain NUL (\\u0000) characters"
    assert not Deployment.objects.exists()


def test_a_nul_in_the_external_id_filter_is_refused(api):
    response = api.get("/api/deployments", {"external_id": "a\x00b"})

    assert response.status_code == 422
    assert "must not contain NUL" in response.json()["errors"][0]["message"]


def test_numbers_pass_the_nul_check_untouched(api):
    response = post(api, hands_on_minutes=12)

    assert response.status_code == 201
    assert Deployment.objects.get().hands_on_minutes == 12


def test_deployments_started_at_the_same_moment_list_the_later_recorded_first(api):
    moment = datetime.datetime(2026, 3, 3, 10, tzinfo=datetime.UTC)
    recorded = [DeploymentFactory(started_at=moment).pk for _ in range(7)]
    DeploymentFactory(started_at=moment - datetime.timedelta(days=1))

    pages = [api.get("/api/deployments", {"limit": 3, "offset": o}).json() for o in (0, 3, 6)]

    listed = [d["id"] for page in pages for d in page]
    assert listed[:7] == sorted(recorded, reverse=True)


def test_the_address_keeps_a_site_url_ending_in_a_capital_x(api, settings):
    settings.SITE_URL = "https://WALLBREAKER.BOX/"

    body = post(api).json()

    assert body["url"] == f"https://WALLBREAKER.BOX/deployments/{body['id']}/"
