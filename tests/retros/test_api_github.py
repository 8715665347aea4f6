import json

import pytest

from retros.models import Deployment
from tests.retros.github_webhooks import SECRET, deliver, event, sign

pytestmark = pytest.mark.usefixtures("github_secret")


def test_githubs_documented_example_signature_verifies():
    # GitHub's docs: this secret and body give this signature.
    from retros.api import github_signature

    assert github_signature(SECRET, b"Hello, World!") == (
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    )


def test_a_successful_deployment_is_recorded(client, db):
    response = deliver(client, event())
    assert response.status_code == 201
    deployment = Deployment.objects.get()
    assert deployment.external_id == "github:326191728"
    assert deployment.result == Deployment.Result.SUCCESS
    assert deployment.environment == Deployment.Environment.PRODUCTION
    assert deployment.version == "4ec1fd5d1cb79bd59bcbfbd8ba1ad72fd4cdaf82"
    assert deployment.repo_url == "https://github.com/Codertocat/Hello-World"
    assert deployment.elapsed_minutes == 32
    assert deployment.notes == "Deployed by the release workflow"


@pytest.mark.parametrize(
    ("state", "stored"), [("success", "success"), ("failure", "failure"), ("error", "failure")]
)
def test_final_states_map_to_results(client, db, state, stored):
    assert deliver(client, event(state)).status_code == 201
    assert Deployment.objects.get().result == stored


@pytest.mark.parametrize("state", ["pending", "queued", "in_progress"])
def test_unfinished_states_are_acknowledged_and_ignored(client, db, state):
    response = deliver(client, event(state))
    assert response.status_code == 202
    assert not Deployment.objects.exists()


def test_an_inactive_status_does_not_change_a_recorded_deployment(client, db):
    deliver(client, event("success"))
    response = deliver(client, event("inactive"))
    assert response.status_code == 202
    assert Deployment.objects.get().result == Deployment.Result.SUCCESS


def test_a_later_status_updates_the_same_deployment(client, db):
    deliver(client, event("success"))
    later = {"id": 444837390, "created_at": "2026-03-03T10:52:00Z", "updated_at": None}
    assert deliver(client, event("failure", later)).status_code == 200
    assert Deployment.objects.get().result == Deployment.Result.FAILURE


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "sha256=" + "0" * 64,
        "sha1=757107ea0eb2509fc211221cce984b8a37570b6d",
        sign(b"another body"),
        None,
    ],
    ids=["missing", "zeros", "sha1", "other body", "wrong secret"],
)
def test_a_bad_or_missing_signature_is_refused_and_stores_nothing(client, db, signature):
    body = json.dumps(event()).encode()
    if signature is None:
        signature = sign(body, secret="guessed")
    response = deliver(client, body, signature=signature)
    assert response.status_code == 401
    assert "signature" in response.json()["reason"]
    assert not Deployment.objects.exists()


def test_without_a_configured_secret_everything_is_refused(client, db, settings):
    settings.GITHUB_WEBHOOK_SECRET = ""
    body = json.dumps(event()).encode()
    response = deliver(client, body, signature=sign(body, secret=""))
    assert response.status_code == 401
    assert not Deployment.objects.exists()


@pytest.mark.parametrize("kind", ["push", "deployment", "workflow_run"])
def test_other_events_are_acknowledged_and_ignored(client, db, kind):
    response = deliver(client, {"ref": "refs/heads/main", "zen": "Keep it simple."}, kind=kind)
    assert response.status_code == 202
    assert not Deployment.objects.exists()


def test_a_ping_is_answered(client, db):
    response = deliver(client, {"zen": "Design for failure.", "hook_id": 1}, kind="ping")
    assert response.status_code == 200


def test_signed_but_malformed_json_is_a_400(client, db):
    response = deliver(client, b'{"action": "created",')
    assert response.status_code == 400
    assert response.json()["reason"] == "The body is not valid JSON."


def test_a_signed_payload_of_the_wrong_shape_is_a_422(client, db):
    payload = event()
    payload["deployment"]["id"] = "not-a-number"
    response = deliver(client, payload)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "deployment.id"
    assert not Deployment.objects.exists()


def test_an_untracked_environment_is_ignored(client, db):
    payload = event(environment="github-pages")
    payload["deployment_status"]["environment"] = "github-pages"
    assert deliver(client, payload).status_code == 202
    assert not Deployment.objects.exists()


def test_an_oversized_delivery_is_a_413(client, db):
    payload = event()
    payload["deployment"]["payload"] = {"blob": "x" * (70 * 1024)}
    assert deliver(client, payload).status_code == 413
    assert not Deployment.objects.exists()


def test_a_signed_body_that_is_not_text_is_refused_as_bad_json(client, db):
    # Found by the hypothesis fuzzing: bytes that are not UTF-8 caused a 500.
    response = deliver(client, b"\x00\x00\x00\x00\x00")
    assert response.status_code == 400
    assert response.json()["reason"] == "The body is not valid JSON."
    assert not Deployment.objects.exists()
