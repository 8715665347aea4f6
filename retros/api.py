"""The JSON API for machines: CI posts deployments, GitHub posts deployment_status events.

Built with django-ninja, which also writes the OpenAPI description (/api/openapi.json) from
the schemas below. Every refusal is JSON with a `reason` and a 4xx status; a deployment is
validated whole before anything is written, so nothing half-stored ever remains.
"""

import datetime
import hashlib
import hmac
import json
import re
from collections.abc import Callable
from functools import wraps
from typing import Annotated, Any, Literal

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError as ModelValidationError
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, URLResolver
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from ninja import Field, NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as RequestValidationError
from ninja.security import HttpBearer
from pydantic import AfterValidator, AliasChoices, Strict, field_validator
from pydantic import ValidationError as PydanticValidationError

from .models import ApiToken, Deployment, DeploymentRun, StaleUpdate

MAX_BODY_BYTES = 64 * 1024

api = NinjaAPI(
    title="Wallbreaker API",
    version="1",
    description=(
        "Deployments in from CI (DevLake-compatible) and from GitHub deployment_status "
        "webhooks. Authenticate with `Authorization: Bearer <token>`; tokens are created "
        'and revoked in the admin. Errors are JSON: `{"reason": ..., "errors": [...]}`.'
    ),
    urls_namespace="api",
    docs_url=None,  # The interactive docs load scripts from a CDN, which our CSP forbids.
)


class TokenRequest(HttpRequest):
    """A request TokenAuth let in: ninja sets `auth` to the token (for annotations only)."""

    auth: ApiToken


class TokenAuth(HttpBearer):
    """A live token with `scope`: none or a revoked one is 401, one without the scope 403."""

    def __init__(self, scope: str = ApiToken.Scope.DEPLOYMENTS_WRITE) -> None:
        super().__init__()
        self.scope = str(scope)

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = ApiToken.authenticate(token) if token else None
        if found is not None and not found.has_scope(self.scope):
            raise HttpError(403, f"This token lacks the {self.scope} scope.")
        return found


class ErrorOut(Schema):
    reason: str
    errors: list[dict[str, str]] = []


def _error(
    request: HttpRequest, reason: str, status: int, errors: list[dict[str, str]] | None = None
) -> HttpResponse:
    return api.create_response(request, {"reason": reason, "errors": errors or []}, status=status)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _error(
        request, "A valid API token is required: send Authorization: Bearer <token>.", 401
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
        return _error(request, "The body is not valid JSON.", 400)
    return _error(request, str(exc), exc.status_code)


@api.exception_handler(RequestValidationError)
def _invalid_request(request: HttpRequest, exc: RequestValidationError) -> HttpResponse:
    errors = []
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "payload")]
        errors.append({"field": ".".join(location), "message": str(error.get("msg", ""))})
    return _error(request, "Some fields are missing or have the wrong type.", 422, errors)


def _model_errors(exc: ModelValidationError) -> list[dict[str, str]]:
    return [
        {"field": "" if field == "__all__" else field, "message": message}
        for field, messages in exc.message_dict.items()
        for message in messages
    ]


def refuse_nul(value: str) -> str:
    """PostgreSQL cannot store a NUL character; refuse it as a bad value, not a crash."""
    if "\x00" in value:
        raise ValueError("must not contain NUL (\\u0000) characters")
    return value


Text = Annotated[str, AfterValidator(refuse_nul)]


class InSchema(Schema):
    """A request body: no text in it may hold a NUL character."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return refuse_nul(value) if isinstance(value, str) else value


# DevLake's incoming deployment webhook (and its older snake_case form), plus our own figures.

Minutes = Annotated[int, Strict(), Field(ge=0, le=100_000)]


class DeploymentCommitIn(InSchema):
    repo_url: str = Field("", max_length=300, validation_alias=AliasChoices("repoUrl", "repo_url"))
    commit_sha: str = Field(
        "", max_length=100, validation_alias=AliasChoices("commitSha", "commit_sha")
    )


class DeploymentIn(InSchema):
    id: Annotated[str, Strict()] = Field(
        ...,
        min_length=1,
        max_length=190,
        validation_alias=AliasChoices("id", "pipeline_id", "pipelineId"),
        description="The sender's id for this deployment (DevLake `id`, formerly "
        "`pipeline_id`). Posting it again updates the same deployment.",
    )
    started_at: datetime.datetime = Field(
        ...,
        validation_alias=AliasChoices("startedDate", "start_time", "started_at"),
        description="ISO 8601; without an offset the server's time zone is assumed.",
    )
    finished_at: datetime.datetime = Field(
        ..., validation_alias=AliasChoices("finishedDate", "end_time", "finished_at")
    )
    result: Literal["SUCCESS", "FAILURE", "ABORT", "MANUAL", "ROLLED_BACK"] = Field(
        "SUCCESS",
        description="DevLake's results; MANUAL (the pipeline stopped for a manual action) "
        "is stored as aborted. ROLLED_BACK is ours.",
    )
    environment: Literal["PRODUCTION", "STAGING", "TESTING", "DEVELOPMENT"] = Field(
        "PRODUCTION",
        description="TESTING and DEVELOPMENT are acknowledged (202) but not stored.",
    )
    display_title: str = Field(
        "", max_length=500, validation_alias=AliasChoices("displayTitle", "display_title")
    )
    name: str = Field("", max_length=500)
    deployment_commits: list[DeploymentCommitIn] = Field(
        [], max_length=100, validation_alias=AliasChoices("deploymentCommits")
    )
    repo_url: str = Field(
        "", max_length=300, description="Older DevLake form; deploymentCommits[0] wins."
    )
    commit_sha: str = Field("", max_length=100)
    hands_on_minutes: Minutes | None = None
    blocked_minutes: Minutes | None = None
    blocked_cause: str | None = Field(None, max_length=200)
    restarts: Minutes | None = None
    manual_steps_done: Minutes | None = None
    trigger: Literal["manual", "scripted", "one_button", "automatic"] | None = Field(
        None, description="How it was started; a new deployment from CI defaults to scripted."
    )
    version: str | None = Field(None, max_length=100, description="Defaults to the commit sha.")
    notes: str | None = Field(None, max_length=5000)


class DeploymentOut(Schema):
    id: int
    external_id: str | None
    url: str
    environment: str
    result: str
    trigger: str
    started_at: datetime.datetime
    finished_at: datetime.datetime
    elapsed_minutes: int
    hands_on_minutes: int
    blocked_minutes: int
    blocked_cause: str
    restarts: int
    manual_steps_done: int
    version: str
    repo_url: str
    notes: str
    duty_week: str | None = Field(None, description="ISO week of the duty week, e.g. 2026-W07.")

    @staticmethod
    def resolve_url(deployment: Deployment) -> str:
        return settings.SITE_URL.rstrip("/") + deployment.get_absolute_url()

    @staticmethod
    def resolve_duty_week(deployment: Deployment) -> str | None:
        return deployment.duty_week.iso_label if deployment.duty_week else None


class IgnoredOut(Schema):
    reason: str
    stored: bool = False


RESULTS = {
    "SUCCESS": Deployment.Result.SUCCESS,
    "FAILURE": Deployment.Result.FAILURE,
    "ABORT": Deployment.Result.ABORTED,
    "MANUAL": Deployment.Result.ABORTED,
    "ROLLED_BACK": Deployment.Result.ROLLED_BACK,
}
ENVIRONMENTS = {
    "PRODUCTION": Deployment.Environment.PRODUCTION,
    "STAGING": Deployment.Environment.STAGING,
}


def _aware(moment: datetime.datetime) -> datetime.datetime:
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


# What a deployment run measured itself; a CI post joining its deployment leaves these.
RUN_MEASURED = {
    "started_at",
    "finished_at",
    "hands_on_minutes",
    "blocked_minutes",
    "blocked_cause",
    "restarts",
    "manual_steps_done",
    "trigger",
}


def _store(
    request: HttpRequest,
    external_id: str,
    fields: dict[str, Any],
    on_create: dict[str, Any],
    is_stale: Callable[[Deployment], bool] | None = None,
) -> Status:
    """Validate the whole deployment, then create or update it (unless `is_stale` says no)."""
    candidate = Deployment.objects.filter(external_id=external_id).first() or Deployment(
        **on_create
    )
    if candidate.pk and DeploymentRun.objects.filter(deployment=candidate).exists():
        # Done step by step in the app: the run measured the whole deployment (manual steps
        # included), so its times and figures stay; CI adds what else it knows.
        fields = {name: value for name, value in fields.items() if name not in RUN_MEASURED}
    for name, value in fields.items():
        setattr(candidate, name, value)
    try:
        candidate.full_clean(exclude=["external_id", "duty_week"], validate_unique=False)
    except ModelValidationError as exc:
        return Status(
            422,
            {"reason": "The deployment is not possible as sent.", "errors": _model_errors(exc)},
        )
    try:
        deployment, created = Deployment.objects.record_external(
            external_id, on_create=on_create, is_stale=is_stale, **fields
        )
    except StaleUpdate:
        return Status(
            202,
            {
                "reason": "A newer status of this deployment is already recorded; "
                "this one changes nothing."
            },
        )
    except IntegrityError:
        return Status(
            422, {"reason": "The deployment breaks a rule of the database.", "errors": []}
        )
    deployment = Deployment.objects.select_related("duty_week").get(pk=deployment.pk)
    return Status(201 if created else 200, deployment)


@api.post(
    "/deployments",
    auth=TokenAuth(),
    response={
        200: DeploymentOut,
        201: DeploymentOut,
        202: IgnoredOut,
        400: ErrorOut,
        401: ErrorOut,
        413: ErrorOut,
        422: ErrorOut,
    },
    summary="Record a deployment (DevLake deployment webhook fields)",
    description="Creates the deployment (201) or, when its id was sent before, updates it "
    "(200). Only the fields sent are changed on an update, so figures typed in by hand "
    "are kept.",
)
def post_deployment(request: HttpRequest, payload: DeploymentIn) -> Status:
    if payload.id.startswith(GITHUB_ID_PREFIX):
        # The GitHub webhook owns these ids: a CI post must not overwrite what it recorded.
        return Status(
            422,
            {
                "reason": "The deployment is not possible as sent.",
                "errors": [
                    {
                        "field": "id",
                        "message": f"Ids starting with {GITHUB_ID_PREFIX!r} are kept for the "
                        "GitHub webhook; send your own pipeline id.",
                    }
                ],
            },
        )
    if payload.environment not in ENVIRONMENTS:
        return Status(
            202,
            {
                "reason": f"{payload.environment} deployments are not tracked; "
                "only PRODUCTION and STAGING are."
            },
        )
    sent = payload.model_fields_set
    commit = payload.deployment_commits[0] if payload.deployment_commits else None
    fields: dict[str, Any] = {
        "started_at": _aware(payload.started_at),
        "finished_at": _aware(payload.finished_at),
    }
    if "result" in sent:
        fields["result"] = RESULTS[payload.result]
    if "environment" in sent:
        fields["environment"] = ENVIRONMENTS[payload.environment]
    repo_url = commit.repo_url if commit and commit.repo_url else payload.repo_url
    sha = commit.commit_sha if commit and commit.commit_sha else payload.commit_sha
    if repo_url:
        fields["repo_url"] = repo_url
    if payload.version is not None or sha:
        fields["version"] = payload.version if payload.version is not None else sha
    for name in [
        "hands_on_minutes",
        "blocked_minutes",
        "blocked_cause",
        "restarts",
        "manual_steps_done",
        "trigger",
    ]:
        value = getattr(payload, name)
        if value is not None:
            fields[name] = value
    title = payload.display_title or payload.name
    if payload.notes is not None:
        fields["notes"] = payload.notes
    elif payload.result == "MANUAL" or title:
        manual = "CI reported MANUAL: the pipeline stopped for a manual action."
        fields["notes"] = "\n".join(
            line for line in [title, manual if payload.result == "MANUAL" else ""] if line
        )
    on_create = {
        "environment": Deployment.Environment.PRODUCTION,
        "result": Deployment.Result.SUCCESS,
        "trigger": Deployment.Trigger.SCRIPTED,
    }
    return _store(request, payload.id, fields, on_create)


@api.get(
    "/deployments/{int:pk}",
    auth=TokenAuth(),
    response={200: DeploymentOut, 401: ErrorOut, 404: ErrorOut},
    summary="Read one deployment",
)
def get_deployment(request: HttpRequest, pk: int) -> Deployment | Status:
    deployment = Deployment.objects.select_related("duty_week").filter(pk=pk).first()
    if deployment is None:
        return Status(404, {"reason": "No deployment has that id.", "errors": []})
    return deployment


@api.get(
    "/deployments",
    auth=TokenAuth(),
    response={200: list[DeploymentOut], 401: ErrorOut},
    summary="Recent deployments, newest first",
)
def list_deployments(
    request: HttpRequest,
    limit: Annotated[int, Field(ge=1, le=500)] = 50,
    offset: Annotated[int, Field(ge=0)] = 0,
    external_id: Annotated[Text, Field(max_length=200)] | None = None,
) -> list[Deployment]:
    deployments = Deployment.objects.select_related("duty_week").order_by("-started_at", "-pk")
    if external_id:
        deployments = deployments.filter(external_id=external_id)
    return list(deployments[offset : offset + limit])


# GitHub deployment_status webhooks, authenticated by the HMAC of a shared secret.

GITHUB_STATES = {
    "success": Deployment.Result.SUCCESS,
    "failure": Deployment.Result.FAILURE,
    "error": Deployment.Result.FAILURE,
}
GITHUB_ID_PREFIX = "github:"
GITHUB_ENVIRONMENTS = {
    "production": Deployment.Environment.PRODUCTION,
    "prod": Deployment.Environment.PRODUCTION,
    "live": Deployment.Environment.PRODUCTION,
    "staging": Deployment.Environment.STAGING,
    "stage": Deployment.Environment.STAGING,
    "stg": Deployment.Environment.STAGING,
}


def github_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class GithubDeployment(InSchema):
    # GitHub's ids are 64-bit; a longer one would overflow the stored external id.
    id: Annotated[int, Strict(), Field(ge=1, lt=2**63)]
    sha: str = Field("", max_length=100)
    ref: str = Field("", max_length=300)
    environment: str = Field("", max_length=200)
    description: str | None = Field(None, max_length=5000)
    created_at: datetime.datetime


class GithubDeploymentStatus(InSchema):
    id: Annotated[int, Strict(), Field(ge=0, le=2**63 - 1)] | None = None
    state: str = Field(..., max_length=30)
    environment: str = Field("", max_length=200)
    description: str | None = Field(None, max_length=5000)
    created_at: datetime.datetime
    updated_at: datetime.datetime | None = None


class GithubRepository(InSchema):
    html_url: str = Field("", max_length=300)
    full_name: str = Field("", max_length=300)


class GithubDeploymentStatusEvent(InSchema):
    action: str = ""
    deployment_status: GithubDeploymentStatus
    deployment: GithubDeployment
    repository: GithubRepository | None = None


def _inline_refs(schema: dict[str, Any]) -> Any:
    """Pydantic's schema with its nested "$defs" inlined, to stand alone in the document."""
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(definitions[node["$ref"].rsplit("/", 1)[-1]])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    return resolve(schema)


@api.post(
    "/webhooks/github",
    response={
        200: DeploymentOut | IgnoredOut,
        201: DeploymentOut,
        202: IgnoredOut,
        400: ErrorOut,
        401: ErrorOut,
        413: ErrorOut,
        422: ErrorOut,
    },
    summary="GitHub webhook: deployment_status events",
    description="Verified with X-Hub-Signature-256 (HMAC-SHA256 of the body with the shared "
    "secret). deployment_status events in a final state (success, failure, error) record "
    "the deployment as `github:<deployment id>`; other events and states are acknowledged "
    "and ignored. An `inactive` status only means a newer deployment replaced this one, so "
    "it changes nothing. A status older than the one recorded (by its own updated_at, then its "
    "id) or a redelivery of the same delivery answers 202 and changes nothing.",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": _inline_refs(GithubDeploymentStatusEvent.model_json_schema())
                }
            },
            "required": True,
        }
    },
)
def github_webhook(request: HttpRequest) -> Status:
    secret = settings.GITHUB_WEBHOOK_SECRET
    signature = request.headers.get("X-Hub-Signature-256", "")
    if not secret or not hmac.compare_digest(
        github_signature(secret, request.body).encode(), signature.encode()
    ):
        return Status(
            401, {"reason": "The X-Hub-Signature-256 signature does not match.", "errors": []}
        )
    event = request.headers.get("X-GitHub-Event", "")
    if event == "ping":
        return Status(200, {"reason": "pong"})
    if event != "deployment_status":
        return Status(202, {"reason": f"{event or 'Unnamed'} events are ignored."})
    try:
        data = json.loads(request.body)
    except (ValueError, RecursionError):  # not JSON, not text, or nested past the stack
        return Status(400, {"reason": "The body is not valid JSON.", "errors": []})
    try:
        payload = GithubDeploymentStatusEvent.model_validate(data)
    except PydanticValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        return Status(
            422, {"reason": "Not a deployment_status event GitHub would send.", "errors": errors}
        )

    status, deployment = payload.deployment_status, payload.deployment
    if status.state not in GITHUB_STATES:
        return Status(202, {"reason": f"A {status.state} status is not a finished deployment."})
    environment_name = (status.environment or deployment.environment).strip().lower()
    environment = GITHUB_ENVIRONMENTS.get(environment_name)
    if environment is None:
        return Status(202, {"reason": f"The environment {environment_name!r} is not tracked."})
    fields: dict[str, Any] = {
        "environment": environment,
        "result": GITHUB_STATES[status.state],
        "started_at": _aware(deployment.created_at),
        "finished_at": max(_aware(status.created_at), _aware(deployment.created_at)),
        "version": deployment.sha,
    }
    if payload.repository and payload.repository.html_url:
        fields["repo_url"] = payload.repository.html_url
    if status.description:
        fields["notes"] = status.description
    status_at = _aware(status.updated_at or status.created_at)
    delivery = request.headers.get("X-GitHub-Delivery", "")
    if not re.fullmatch(r"[0-9A-Za-z-]{1,100}", delivery):
        delivery = ""  # GitHub sends a GUID; anything else cannot identify a redelivery
    fields |= {
        "github_status_at": status_at,
        "github_status_id": status.id,
        "github_delivery": delivery,
    }

    def is_stale(stored: Deployment) -> bool:
        """Older than the status already applied, or that very status (or delivery) again."""
        if stored.github_status_at is None:
            return False  # recorded before statuses were ordered: any final status is news
        if delivery and delivery == stored.github_delivery:
            return True
        if status_at != stored.github_status_at:
            return status_at < stored.github_status_at
        # The same moment: GitHub's status ids grow, so the higher id is the later status.
        if status.id is None or stored.github_status_id is None:
            return True
        return status.id <= stored.github_status_id

    on_create = {"trigger": Deployment.Trigger.SCRIPTED}
    return _store(request, f"{GITHUB_ID_PREFIX}{deployment.id}", fields, on_create, is_stale)


def _machine_endpoint(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Refuse oversized bodies before reading them; tokens or signatures replace logins."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse(
                {"reason": "Content-Length is not a number.", "errors": []}, status=400
            )
        if length > MAX_BODY_BYTES:
            return JsonResponse(
                {"reason": f"The body is larger than {MAX_BODY_BYTES} bytes.", "errors": []},
                status=413,
            )
        return view(request, *args, **kwargs)

    return csrf_exempt(login_not_required(wrapped))


def machine_urls() -> tuple[list[URLResolver | URLPattern], str, str]:
    """The API's URL patterns; config.urls calls it once the other apps' routers are added."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        if not isinstance(pattern, URLPattern):  # a nested router would escape the limits
            raise TypeError(f"The API's routes are expected flat, not {pattern!r}")
        pattern.callback = _machine_endpoint(pattern.callback)
    return patterns, app_name, namespace
