"""GitHub's deployment_status webhook as the tests deliver it: the documented event, signed."""

import copy
import hashlib
import hmac
import json
import uuid

URL = "/api/webhooks/github"
SECRET = "It's a Secret to Everybody"

USER = {
    "login": "Codertocat",
    "id": 21031067,
    "node_id": "MDQ6VXNlcjIxMDMxMDY3",
    "type": "User",
    "site_admin": False,
}

# The shape GitHub documents for a deployment_status webhook (trimmed of repeated URLs).
DEPLOYMENT_STATUS_EVENT = {
    "action": "created",
    "deployment_status": {
        "url": "https://api.github.com/repos/Codertocat/Hello-World/deployments/326191728/statuses/444837389",
        "id": 444837389,
        "node_id": "MDE2OkRlcGxveW1lbnRTdGF0dXM0NDQ4MzczODk=",
        "state": "success",
        "creator": USER,
        "description": "Deployed by the release workflow",
        "environment": "production",
        "target_url": "",
        "created_at": "2026-03-03T10:47:08Z",
        "updated_at": "2026-03-03T10:47:08Z",
        "deployment_url": "https://api.github.com/repos/Codertocat/Hello-World/deployments/326191728",
        "repository_url": "https://api.github.com/repos/Codertocat/Hello-World",
        "performed_via_github_app": None,
    },
    "deployment": {
        "url": "https://api.github.com/repos/Codertocat/Hello-World/deployments/326191728",
        "id": 326191728,
        "node_id": "MDEwOkRlcGxveW1lbnQzMjYxOTE3Mjg=",
        "task": "deploy",
        "original_environment": "production",
        "environment": "production",
        "description": None,
        "created_at": "2026-03-03T10:15:07Z",
        "updated_at": "2026-03-03T10:47:08Z",
        "statuses_url": "https://api.github.com/repos/Codertocat/Hello-World/deployments/326191728/statuses",
        "repository_url": "https://api.github.com/repos/Codertocat/Hello-World",
        "creator": USER,
        "sha": "4ec1fd5d1cb79bd59bcbfbd8ba1ad72fd4cdaf82",
        "ref": "main",
        "payload": {},
        "transient_environment": False,
        "production_environment": True,
        "performed_via_github_app": None,
    },
    "repository": {
        "id": 186853002,
        "name": "Hello-World",
        "full_name": "Codertocat/Hello-World",
        "private": False,
        "owner": USER,
        "html_url": "https://github.com/Codertocat/Hello-World",
        "default_branch": "main",
    },
    "sender": USER,
}


def event(state="success", status=None, **deployment):
    """The documented event with this status `state`, and `status`/`deployment` fields changed."""
    payload = copy.deepcopy(DEPLOYMENT_STATUS_EVENT)
    payload["deployment_status"]["state"] = state
    payload["deployment_status"].update(status or {})
    payload["deployment"].update(deployment)
    return payload


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(client, payload, kind="deployment_status", signature=None, delivery=None, **headers):
    """POST `payload` as GitHub does: signed with SECRET unless `signature` says otherwise."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    if signature is None:
        signature = sign(body)
    if signature:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature
    return client.post(
        URL,
        body,
        content_type="application/json",
        HTTP_X_GITHUB_EVENT=kind,
        HTTP_X_GITHUB_DELIVERY=delivery or str(uuid.uuid4()),
        **headers,
    )
