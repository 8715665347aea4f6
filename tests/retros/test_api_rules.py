"""The rules of the deployments API and the GitHub webhook, each pinned by a test.

Mutation testing (make mutate) found these unpinned. They are about what is stored and what is
refused, which stays whatever order the webhook checks things in.
"""

import datetime
import json

import pytest
from django.db import connection
from django.http import HttpResponse
from django.utils import timezone
from ninja.errors import HttpError

from retros.api import MAX_BODY_BYTES, _inline_refs, _machine_endpoint, machine_urls
from retros.api import api as deployments_api
from retros.models import Deployment
from tests.factories import DeploymentFactory, DutyWeekFactory
from tests.retros.github_webhooks import URL as WEBHOOK
from tests.retros.github_webhooks import deliver, event, sign

URL = "/api/deployments"


@pytest.fixture(autouse=True)
def webhook_secret(github_secret):
    """Every test here may deliver a webhook."""


def minimal(**fields):
    """Only what DevLake must send."""
    return {
        "id": "pipeline-1",
        "startedDate": "2026-03-03T10:00:00+00:00",
        "finishedDate": "2026-03-03T10:30:00+00:00",
        **fields,
    }


def post(client, payload, **extra):
    return client.post(URL, json.dumps(payload), content_type="application/json", **extra)


def stored():
    return Deployment.objects.get()


# --- What a deployment from CI stores -------------------------------------------------------------


def test_a_minimal_deployment_gets_the_defaults_of_a_ci_deployment(api):
    response = post(api, minimal())

    assert response.status_code == 201
    deployment = stored()
    assert (deployment.environment, deployment.result, deployment.trigger) == (
        "production",
        "success",
        "scripted",
    )
    assert (deployment.version, deployment.repo_url, deployment.notes) == ("", "", "")
    assert (deployment.hands_on_minutes, deployment.blocked_cause) == (0, "")
    assert deployment.external_id == "pipeline-1"
    assert deployment.elapsed_minutes == 30


def test_a_staging_deployment_is_stored_as_staging(api):
    assert post(api, minimal(environment="STAGING")).status_code == 201

    assert stored().environment == "staging"


def test_an_update_without_environment_or_result_keeps_them(api):
    post(api, minimal(environment="STAGING", result="FAILURE"))

    response = post(api, minimal(hands_on_minutes=5))

    assert response.status_code == 200
    assert (stored().environment, stored().result, stored().hands_on_minutes) == (
        "staging",
        "failure",
        5,
    )


def test_the_answer_describes_the_stored_deployment(api, settings):
    settings.SITE_URL = "https://wallbreaker.example/"
    DutyWeekFactory(week_start=datetime.date(2026, 3, 2))

    body = post(api, minimal(version="v1.2")).json()

    deployment = stored()
    assert body["id"] == deployment.pk
    assert body["url"] == f"https://wallbreaker.example/deployments/{deployment.pk}/"
    assert body["duty_week"] == "2026-W10"
    assert (body["version"], body["elapsed_minutes"], body["trigger"]) == ("v1.2", 30, "scripted")


def test_a_deployment_outside_any_duty_week_answers_without_one(api):
    body = post(api, minimal()).json()

    assert body["duty_week"] is None


def test_a_version_without_a_commit_sha_is_stored(api):
    post(api, minimal(version="2026.03.1"))

    assert stored().version == "2026.03.1"


def test_the_commit_sha_is_the_version_when_none_is_sent(api):
    post(api, minimal(deploymentCommits=[{"repoUrl": "", "commitSha": "abc123"}]))

    assert stored().version == "abc123"


def test_a_sent_version_wins_over_the_commit_sha_even_when_empty(api):
    post(api, minimal(commit_sha="abc123", version=""))

    assert stored().version == ""


def test_an_update_without_version_or_sha_keeps_the_version(api):
    post(api, minimal(version="v1"))

    post(api, minimal())

    assert stored().version == "v1"


def test_the_first_commit_wins_over_the_older_top_level_fields(api):
    post(
        api,
        minimal(
            repo_url="https://github.com/example/old",
            commit_sha="old",
            deploymentCommits=[
                {"repoUrl": "https://github.com/example/shop", "commitSha": "new"},
                {"repoUrl": "https://github.com/example/other", "commitSha": "other"},
            ],
        ),
    )

    assert (stored().repo_url, stored().version) == ("https://github.com/example/shop", "new")


def test_a_commit_without_repo_or_sha_falls_back_to_the_top_level_fields(api):
    post(
        api,
        minimal(
            repo_url="https://github.com/example/old",
            commit_sha="old",
            deploymentCommits=[{"repoUrl": "", "commitSha": ""}],
        ),
    )

    assert (stored().repo_url, stored().version) == ("https://github.com/example/old", "old")


def test_an_update_without_a_repository_keeps_the_stored_one(api):
    post(api, minimal(repo_url="https://github.com/example/shop"))

    post(api, minimal())

    assert stored().repo_url == "https://github.com/example/shop"


def test_the_title_becomes_the_notes(api):
    post(api, minimal(displayTitle="Release 7"))

    assert stored().notes == "Release 7"


def test_the_older_name_field_is_the_title_too(api):
    post(api, minimal(name="Release 8"))

    assert stored().notes == "Release 8"


def test_a_manual_result_adds_its_explanation_under_the_title(api):
    post(api, minimal(result="MANUAL", displayTitle="Release 9"))

    assert stored().notes == (
        "Release 9\nCI reported MANUAL: the pipeline stopped for a manual action."
    )
    assert stored().result == "aborted"


def test_notes_sent_win_over_the_title(api):
    post(api, minimal(result="MANUAL", displayTitle="Release 9", notes="By hand"))

    assert stored().notes == "By hand"


def test_an_update_without_title_or_notes_keeps_the_notes(api):
    post(api, minimal(notes="Typed in by hand"))

    post(api, minimal(result="FAILURE"))

    assert stored().notes == "Typed in by hand"


def test_figures_not_sent_are_left_as_they_are(api):
    post(api, minimal(blocked_minutes=3, restarts=1, manual_steps_done=4, trigger="one_button"))

    post(api, minimal(hands_on_minutes=9))

    deployment = stored()
    assert (
        deployment.hands_on_minutes,
        deployment.blocked_minutes,
        deployment.restarts,
        deployment.manual_steps_done,
        deployment.trigger,
    ) == (9, 3, 1, 4, "one_button")


def test_an_untracked_environment_names_itself_in_the_answer(api):
    response = post(api, minimal(environment="DEVELOPMENT"))

    assert response.status_code == 202
    assert response.json() == {
        "reason": "DEVELOPMENT deployments are not tracked; only PRODUCTION and STAGING are.",
        "stored": False,
    }
    assert not Deployment.objects.exists()


# --- Length limits, at the boundary and one past it ------------------------------------------


LIMITS = [
    # (field sent, longest accepted, stored as, read back with)
    ("id", 190, "external_id"),
    ("displayTitle", 500, "notes"),
    ("name", 500, "notes"),
    ("commit_sha", 100, "version"),
    ("blocked_cause", 200, "blocked_cause"),
    ("version", 100, "version"),
    ("notes", 5000, "notes"),
]


@pytest.mark.parametrize(("field", "limit", "column"), LIMITS, ids=[f for f, *_ in LIMITS])
def test_every_text_field_takes_its_longest_value(api, field, limit, column):
    value = "x" * limit

    response = post(api, minimal(**{field: value}))

    assert response.status_code == 201
    assert getattr(stored(), column) == value


@pytest.mark.parametrize(("field", "limit", "column"), LIMITS, ids=[f for f, *_ in LIMITS])
def test_every_text_field_refuses_one_character_more(api, field, limit, column):
    response = post(api, minimal(**{field: "x" * (limit + 1)}))

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    assert not Deployment.objects.exists()


def test_a_repository_address_takes_300_characters_and_not_301(api):
    base = "https://github.com/"
    longest = base + "x" * (300 - len(base))

    assert post(api, minimal(repo_url=longest)).status_code == 201
    assert stored().repo_url == longest
    too_long = post(api, minimal(id="other", repo_url=longest + "x"))
    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["field"] == "repo_url"


def test_a_commit_takes_its_longest_sha_and_not_one_more(api):
    sha = "f" * 100

    assert post(api, minimal(deploymentCommits=[{"commitSha": sha}])).status_code == 201
    assert stored().version == sha
    response = post(api, minimal(id="other", deploymentCommits=[{"commitSha": sha + "f"}]))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "deploymentCommits.0.commitSha"


def test_a_hundred_commits_are_taken_and_a_hundred_and_one_refused(api):
    commits = [{"commitSha": f"sha{n}"} for n in range(100)]

    assert post(api, minimal(deploymentCommits=commits)).status_code == 201
    response = post(api, minimal(id="other", deploymentCommits=[*commits, {"commitSha": "x"}]))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "deploymentCommits"


@pytest.mark.parametrize("field", ["hands_on_minutes", "blocked_minutes", "restarts"])
def test_figures_take_0_to_100000_minutes(api, field):
    assert post(api, minimal(**{field: 100_000})).status_code == 201
    assert getattr(stored(), field) == 100_000
    assert post(api, minimal(**{field: 0})).status_code == 200
    assert getattr(stored(), field) == 0
    response = post(api, minimal(**{field: 100_001}))
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": field, "message": "Input should be less than or equal to 100000"}
    ]


def test_a_body_of_exactly_the_limit_is_read(api):
    payload = minimal(padding="")
    payload["padding"] = "x" * (MAX_BODY_BYTES - len(json.dumps(payload)))
    body = json.dumps(payload)
    assert len(body) == MAX_BODY_BYTES

    assert api.post(URL, body, content_type="application/json").status_code == 201
    response = api.post(URL, body + " ", content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {
        "reason": f"The body is larger than {MAX_BODY_BYTES} bytes.",
        "errors": [],
    }


def test_a_content_length_that_is_not_a_number_is_a_400(api):
    response = post(api, minimal(), CONTENT_LENGTH="many")

    assert response.status_code == 400
    assert response.json() == {"reason": "Content-Length is not a number.", "errors": []}
    assert not Deployment.objects.exists()


# --- Refusals name what is wrong ------------------------------------------------------------------


def test_a_missing_token_is_a_401_that_says_how_to_authenticate(client, db):
    response = post(client, minimal())

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json() == {
        "reason": "A valid API token is required: send Authorization: Bearer <token>.",
        "errors": [],
    }


def test_a_missing_field_is_named_without_the_body_prefix(api):
    payload = minimal()
    del payload["startedDate"]

    response = post(api, payload)

    assert response.status_code == 422
    body = response.json()
    assert body["reason"] == "Some fields are missing or have the wrong type."
    assert body["errors"] == [{"field": "startedDate", "message": "Field required"}]


def test_an_impossible_deployment_says_so(api):
    response = post(api, minimal(finishedDate="2026-03-03T09:00:00+00:00"))

    assert response.status_code == 422
    assert response.json()["reason"] == "The deployment is not possible as sent."


@pytest.mark.skipif(connection.vendor != "postgresql", reason="adds a PostgreSQL constraint")
def test_a_rule_only_the_database_keeps_is_a_422_and_stores_nothing(api):
    # A rule the model does not know (say, added by a later migration) must not become a 500.
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE retros_deployment ADD CONSTRAINT test_notes_short"
            " CHECK (length(notes) < 10)"
        )

    response = post(api, minimal(notes="A long note that the database refuses"))

    assert response.status_code == 422
    assert response.json() == {
        "reason": "The deployment breaks a rule of the database.",
        "errors": [],
    }
    assert not Deployment.objects.exists()


def test_reading_an_unknown_deployment_is_a_404_with_a_reason(api):
    response = api.get(f"{URL}/999999")

    assert response.status_code == 404
    assert response.json() == {"reason": "No deployment has that id.", "errors": []}


def test_the_list_is_newest_first_and_pages(api):
    start = timezone.now() - datetime.timedelta(days=10)
    for day in (3, 1, 2):
        DeploymentFactory(started_at=start + datetime.timedelta(days=day), version=f"d{day}")

    assert [row["version"] for row in api.get(URL).json()] == ["d3", "d2", "d1"]
    paged = api.get(URL, {"limit": 1, "offset": 1}).json()
    assert [row["version"] for row in paged] == ["d2"]


# --- The GitHub webhook ------------------------------------------------------------------------


def github_event(state="success", status=None, deployment=None, **top):
    return event(state, status, **(deployment or {})) | top


def test_the_status_environment_wins_over_the_deployments(client, db):
    payload = github_event(
        status={"environment": "production"}, deployment={"environment": "staging"}
    )

    assert deliver(client, payload).status_code == 201

    assert stored().environment == "production"


def test_a_status_without_environment_takes_the_deployments(client, db):
    payload = github_event(status={"environment": ""}, deployment={"environment": "Staging "})

    assert deliver(client, payload).status_code == 201

    assert stored().environment == "staging"


@pytest.mark.parametrize(
    ("name", "environment"),
    [
        ("production", "production"),
        ("prod", "production"),
        ("live", "production"),
        (" Production ", "production"),
        ("staging", "staging"),
        ("stage", "staging"),
        ("STG", "staging"),
    ],
)
def test_githubs_environment_names_map_to_ours(client, db, name, environment):
    assert deliver(client, github_event(status={"environment": name})).status_code == 201

    assert stored().environment == environment


def test_an_untracked_github_environment_is_named_in_the_answer(client, db):
    response = deliver(client, github_event(status={"environment": "Preview "}))

    assert response.status_code == 202
    assert response.json() == {
        "reason": "The environment 'preview' is not tracked.",
        "stored": False,
    }


def test_a_payload_without_a_repository_is_stored_without_one(client, db):
    payload = github_event()
    del payload["repository"]

    response = deliver(client, payload)

    assert response.status_code == 201
    assert stored().repo_url == ""


def test_a_repository_without_an_address_is_stored_without_one(client, db):
    payload = github_event(repository={"full_name": "Codertocat/Hello-World"})

    assert deliver(client, payload).status_code == 201

    assert stored().repo_url == ""


def test_a_deployment_without_a_sha_is_stored_without_a_version(client, db):
    payload = github_event(deployment={"sha": ""})

    assert deliver(client, payload).status_code == 201

    assert stored().version == ""


def test_a_status_without_description_leaves_the_notes_alone(client, db):
    deliver(client, github_event())
    Deployment.objects.update(notes="Typed in by hand")

    newer = {"id": 444837390, "updated_at": "2026-03-03T11:00:00Z", "description": None}
    assert deliver(client, github_event("failure", status=newer)).status_code == 200

    assert (stored().notes, stored().result) == ("Typed in by hand", "failure")


def test_a_github_deployment_is_scripted_and_keeps_a_trigger_set_by_hand(client, db):
    deliver(client, github_event())
    assert stored().trigger == "scripted"
    Deployment.objects.update(trigger=Deployment.Trigger.ONE_BUTTON)

    newer = {"id": 444837390, "updated_at": "2026-03-03T11:00:00Z"}
    assert deliver(client, github_event("failure", status=newer)).status_code == 200

    assert (stored().trigger, stored().result) == ("one_button", "failure")


def test_the_deployment_starts_when_created_and_ends_with_its_status(client, db):
    payload = github_event(
        status={"created_at": "2026-03-03T11:00:00Z"},
        deployment={"created_at": "2026-03-03T10:00:00Z"},
    )

    deliver(client, payload)

    deployment = stored()
    assert deployment.started_at == datetime.datetime(2026, 3, 3, 10, tzinfo=datetime.UTC)
    assert deployment.finished_at == datetime.datetime(2026, 3, 3, 11, tzinfo=datetime.UTC)


def test_a_status_stamped_before_its_deployment_ends_when_it_started(client, db):
    payload = github_event(
        status={"created_at": "2026-03-03T09:59:00Z"},
        deployment={"created_at": "2026-03-03T10:00:00Z"},
    )

    assert deliver(client, payload).status_code == 201

    assert stored().finished_at == stored().started_at
    assert stored().elapsed_minutes == 0


def test_naive_github_times_are_read_in_the_server_time_zone(client, db):
    payload = github_event(
        status={"created_at": "2026-03-03T10:30:00"},
        deployment={"created_at": "2026-03-03T10:00:00"},
    )

    deliver(client, payload)

    assert timezone.localtime(stored().started_at).hour == 10
    assert stored().elapsed_minutes == 30


def test_an_unfinished_github_state_is_named_in_the_answer(client, db):
    response = deliver(client, github_event("queued"))

    assert response.json() == {
        "reason": "A queued status is not a finished deployment.",
        "stored": False,
    }


def test_a_ping_is_answered_with_pong(client, db):
    response = deliver(client, {"zen": "Design for failure."}, kind="ping")

    assert response.json() == {"reason": "pong", "stored": False}


def test_other_events_are_named_in_the_answer(client, db):
    assert deliver(client, {}, kind="push").json()["reason"] == "push events are ignored."
    assert deliver(client, {}, kind="").json()["reason"] == "Unnamed events are ignored."


def test_a_bad_signature_is_a_401_with_a_reason(client, db):
    response = deliver(client, github_event(), signature="sha256=" + "0" * 64)

    assert response.status_code == 401
    assert response.json() == {
        "reason": "The X-Hub-Signature-256 signature does not match.",
        "errors": [],
    }


def test_a_wrong_shape_names_every_field(client, db):
    payload = github_event()
    del payload["deployment_status"]["created_at"]
    payload["deployment"]["id"] = "x"

    response = deliver(client, payload)

    assert response.status_code == 422
    body = response.json()
    assert body["reason"] == "Not a deployment_status event GitHub would send."
    assert sorted(error["field"] for error in body["errors"]) == [
        "deployment.id",
        "deployment_status.created_at",
    ]
    assert all(error["message"] for error in body["errors"])


def test_the_webhook_is_described_in_the_openapi_document(client, db):
    document = client.get("/api/openapi.json").json()

    schema = document["paths"][WEBHOOK]["post"]["requestBody"]["content"]["application/json"]
    properties = schema["schema"]["properties"]
    assert {"deployment_status", "deployment", "repository"} <= set(properties)
    assert "$ref" not in json.dumps(schema)


def test_deployments_started_at_the_same_moment_list_the_latest_stored_first(api):
    moment = timezone.now() - datetime.timedelta(days=1)
    stored_ids = [DeploymentFactory(started_at=moment).pk for _ in range(6)]

    assert [row["id"] for row in api.get(URL).json()] == stored_ids[::-1]


def test_the_list_shows_50_deployments_unless_asked_for_more(api):
    start = timezone.now() - datetime.timedelta(days=100)
    Deployment.objects.bulk_create(
        Deployment(
            started_at=start + datetime.timedelta(hours=n),
            finished_at=start + datetime.timedelta(hours=n, minutes=5),
        )
        for n in range(51)
    )

    assert len(api.get(URL).json()) == 50
    assert len(api.get(URL, {"limit": 51}).json()) == 51


def test_reading_costs_a_fixed_number_of_queries(api, django_assert_num_queries):
    DutyWeekFactory(week_start=datetime.date(2026, 3, 2))
    post(api, minimal())
    for n in range(5):
        post(api, minimal(id=f"pipeline-{n + 2}"))
    deployment = Deployment.objects.first()

    # The token, its last use, then one query for the deployments with their duty weeks.
    with django_assert_num_queries(3):
        assert api.get(URL).status_code == 200
    with django_assert_num_queries(3):
        assert api.get(f"{URL}/{deployment.pk}").json()["duty_week"] == "2026-W10"


def test_a_delivery_without_an_event_header_is_ignored_as_unnamed(client, db):
    body = json.dumps(github_event()).encode()

    response = client.post(
        WEBHOOK, body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=sign(body)
    )

    assert response.status_code == 202
    assert response.json()["reason"] == "Unnamed events are ignored."
    assert not Deployment.objects.exists()


def test_any_http_error_of_an_endpoint_answers_json_with_its_status(rf):
    response = deployments_api.on_exception(rf.get(URL), HttpError(409, "Already there."))

    assert response.status_code == 409
    assert json.loads(response.content) == {"reason": "Already there.", "errors": []}
    other_400 = deployments_api.on_exception(rf.get(URL), HttpError(400, "Bad page."))
    assert json.loads(other_400.content) == {"reason": "Bad page.", "errors": []}


@pytest.mark.parametrize("deployment_id", [0, 2**63, 10**250])
def test_a_github_deployment_id_outside_64_bits_is_a_422_not_a_500(client, db, deployment_id):
    # A 250-digit id overflowed the stored external id (200 characters): a DataError, a 500.
    response = deliver(client, github_event(deployment={"id": deployment_id}))

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "deployment.id"
    assert not Deployment.objects.exists()


def test_the_largest_github_deployment_id_is_stored(client, db):
    assert deliver(client, github_event(deployment={"id": 2**63 - 1})).status_code == 201

    assert stored().external_id == f"github:{2**63 - 1}"


def test_inlining_the_schema_resolves_every_reference_and_drops_the_definitions():
    schema = {
        "properties": {
            "one": {"$ref": "#/$defs/One"},
            "many": {"type": "array", "items": [{"$ref": "#/$defs/Two"}]},
        },
        "$defs": {
            "One": {"type": "string"},
            "Two": {"type": "object", "properties": {"nested": {"$ref": "#/$defs/One"}}},
        },
    }

    assert _inline_refs(schema) == {
        "properties": {
            "one": {"type": "string"},
            "many": {
                "type": "array",
                "items": [{"type": "object", "properties": {"nested": {"type": "string"}}}],
            },
        },
    }
    assert _inline_refs({"type": "integer", "enum": [1, 2]}) == {"type": "integer", "enum": [1, 2]}


def test_a_machine_endpoint_checks_the_body_size_before_the_view_runs(rf):
    seen = []

    def view(request, pk, *, part="whole"):
        seen.append(pk)
        return HttpResponse(f"{request.method} {part}")

    endpoint = _machine_endpoint(view)

    posted = endpoint(rf.post("/x", b"{}", content_type="application/json"), 1, part="one")
    assert posted.content == b"POST one"
    assert endpoint(rf.get("/x"), pk=2).content == b"GET whole"  # no Content-Length at all
    at_limit = rf.post("/x", b"", content_type="application/json", CONTENT_LENGTH=MAX_BODY_BYTES)
    assert endpoint(at_limit, pk=3).status_code == 200
    over = endpoint(rf.post("/x", b"", "application/json", CONTENT_LENGTH=MAX_BODY_BYTES + 1), pk=4)
    assert over.status_code == 413
    assert json.loads(over.content) == {
        "reason": "The body is larger than 65536 bytes.",
        "errors": [],
    }
    garbled = endpoint(rf.post("/x", b"", "application/json", CONTENT_LENGTH="12a"), pk=5)
    assert garbled.status_code == 400
    assert json.loads(garbled.content) == {
        "reason": "Content-Length is not a number.",
        "errors": [],
    }
    assert seen == [1, 2, 3]
    assert endpoint.csrf_exempt is True
    assert endpoint.login_required is False
    assert endpoint.__name__ == "view"


def test_every_api_url_is_a_machine_endpoint(rf):
    patterns, app_name, namespace = machine_urls()

    assert (app_name, namespace) == ("ninja", "api")
    assert patterns
    for pattern in patterns:
        assert pattern.callback.csrf_exempt is True
        assert pattern.callback.login_required is False
        oversized = rf.post("/x", b"", "application/json", CONTENT_LENGTH=MAX_BODY_BYTES + 1)
        assert pattern.callback(oversized).status_code == 413
    listing = next(p for p in patterns if str(p.pattern) == "deployments")
    assert listing.callback(rf.get("/api/deployments")).status_code == 401  # reached ninja


def test_posting_a_deployment_costs_a_fixed_number_of_queries(api, django_assert_num_queries):
    DutyWeekFactory(week_start=datetime.date(2026, 3, 2))
    post(api, minimal())

    # The token and its last use; the stored deployment, whether a deployment run measured it
    # (a run's figures are kept), and the check constraint (in a savepoint); record_external's
    # lock, duty week and update (in a savepoint); the answer read back with its duty week in
    # the same query.
    with django_assert_num_queries(13):
        response = post(api, minimal(hands_on_minutes=3))

    assert response.json()["duty_week"] == "2026-W10"
