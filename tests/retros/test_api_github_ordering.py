"""GitHub webhooks arrive late, out of order or twice: an older status never overwrites a newer."""

import pytest

from retros.models import Deployment
from tests.factories import DeploymentFactory
from tests.retros.github_webhooks import deliver, event

pytestmark = pytest.mark.usefixtures("github_secret")


FIRST = {"id": 1001, "created_at": "2026-03-03T10:40:00Z", "updated_at": "2026-03-03T10:40:00Z"}
SECOND = {"id": 1002, "created_at": "2026-03-03T10:50:00Z", "updated_at": "2026-03-03T10:50:00Z"}


def stored() -> Deployment:
    return Deployment.objects.get(external_id="github:326191728")


def test_a_late_older_failure_does_not_overwrite_a_newer_success(client, db):
    assert deliver(client, event("success", SECOND)).status_code == 201

    response = deliver(client, event("failure", FIRST))

    assert response.status_code == 202
    assert "newer status" in response.json()["reason"]
    assert stored().result == Deployment.Result.SUCCESS


def test_statuses_in_order_each_update_the_deployment(client, db):
    assert deliver(client, event("failure", FIRST)).status_code == 201
    assert deliver(client, event("success", SECOND)).status_code == 200
    deployment = stored()
    assert deployment.result == Deployment.Result.SUCCESS
    assert deployment.github_status_id == 1002


def test_a_replayed_delivery_changes_nothing(client, db):
    deliver(client, event("failure", FIRST), delivery="guid-1")
    deliver(client, event("success", SECOND), delivery="guid-2")

    # GitHub's "Redeliver" sends the same delivery again, with its GUID.
    response = deliver(client, event("failure", FIRST), delivery="guid-1")

    assert response.status_code == 202
    assert stored().result == Deployment.Result.SUCCESS


def test_the_same_status_sent_twice_changes_nothing_the_second_time(client, db):
    deliver(client, event("success", SECOND))
    Deployment.objects.filter(pk=stored().pk).update(notes="corrected by hand")

    assert deliver(client, event("success", SECOND)).status_code == 202
    assert stored().notes == "corrected by hand"


def test_of_two_statuses_at_the_same_second_the_higher_id_wins(client, db):
    same_moment = {"created_at": "2026-03-03T10:50:00Z", "updated_at": "2026-03-03T10:50:00Z"}
    deliver(client, event("success", {**same_moment, "id": 1003}))

    assert deliver(client, event("failure", {**same_moment, "id": 1002})).status_code == 202
    assert deliver(client, event("error", {**same_moment, "id": 1004})).status_code == 200
    assert stored().result == Deployment.Result.FAILURE


def test_a_ci_post_cannot_take_an_id_of_the_github_webhook(client, db):
    from retros.models import ApiToken

    deliver(client, event("success", SECOND))
    _, key = ApiToken.issue("ci")

    response = client.post(
        "/api/deployments",
        {
            "id": "github:326191728",
            "result": "FAILURE",
            "startedDate": "2026-03-03T10:00:00+00:00",
            "finishedDate": "2026-03-03T10:42:00+00:00",
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "id"
    assert stored().result == Deployment.Result.SUCCESS
    assert Deployment.objects.count() == 1


def test_a_deployment_recorded_before_statuses_were_ordered_takes_the_next_status(client, db):
    DeploymentFactory(external_id="github:326191728", result=Deployment.Result.SUCCESS)

    assert deliver(client, event("failure", FIRST)).status_code == 200
    assert stored().result == Deployment.Result.FAILURE


def test_a_status_id_beyond_a_bigint_is_refused_as_impossible(client, db):
    assert deliver(client, event("success", {"id": 2**64})).status_code == 422
    assert not Deployment.objects.exists()


@pytest.mark.parametrize("delivery", ["bad\x00guid", "x" * 500, "<script>"])
def test_an_odd_delivery_header_is_ignored_not_stored(client, db, delivery):
    assert deliver(client, event("success", SECOND), delivery=delivery).status_code == 201
    assert stored().github_delivery == ""
