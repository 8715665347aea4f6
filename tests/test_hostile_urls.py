"""No input gives a server error: every routed URL with hostile path and query values, every
form field a view reads with hostile values, and every API and webhook field.

The URLs come from the resolver (the admin's included), so a new view is swept the moment it
is routed. The query and form parameters each view reads are found in its source (and the
source of the module functions it calls): `request.GET.get("x")`, `request.POST["x"]`, and
the fields of a form built from `request.GET` or `request.POST`. Each request runs in a
transaction that is rolled back, as staff and as a plain member of a unit.
"""

import hashlib
import hmac
import inspect
import json
import re
import sys
from urllib.parse import quote

import pytest
from django import forms
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from improvements.reporting.panels import PANELS
from retros.api import DeploymentIn
from retros.models import ApiToken, Deployment, PersonFeed
from tests.conftest import MATRIX_PK as PK

HUGE = "9" * 30
# Path values for <int:...> (only digits reach the view) and for every other parameter.
INT_VALUES = ["0", "1", "2147483648", "9223372036854775808", HUGE]
TEXT_VALUES = [
    "\x00",
    "a\x00b",
    "9999-W52",
    "2027-W53",
    "0001-W01",
    "2026-W00",
    "-1",
    HUGE,
    "ü🚀\u202e",
    "x" * 3000,
    "../../etc/passwd",
    "%",
]
QUERY_VALUES = [
    "\x00",
    "9999-W52",
    "2027-W53",
    "0001-W01",
    "9999-12-31",
    "0001-01-01",
    "-1",
    HUGE,
    "1e309",
    "NaN",
    "ü🚀\u202e",
    "x" * 3000,
    "",
]
# Django admin's own changelist parameters, and the API's query parameters (django-ninja).
ADMIN_PARAMETERS = ["q", "o", "p"]
API_PARAMETERS = {"api/deployments": ["limit", "offset", "external_id"]}
GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)|<(?:(\w+):)?(\w+)>")


def walk(patterns, prefix="", callback=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


ROUTES = [
    (route.lstrip("^").replace("$", "").replace("^", ""), view)
    for route, view in walk(get_resolver().url_patterns)
]


def parameters_of(route: str) -> list[tuple[str, str]]:
    """(converter, name) of each path parameter."""
    found = []
    for match in GROUP.finditer(route):
        if match.group(1):
            found.append(("regex", match.group(1)))
        else:
            found.append((match.group(2) or "str", match.group(3)))
    return found


def build(route: str, valid: dict[str, str], hostile: tuple[str, str] | None = None) -> str:
    def value(match):
        name = match.group(1) or match.group(3)
        if hostile and hostile[0] == name:
            return quote(hostile[1], safe="")
        return valid.get(name, str(PK))

    return "/" + GROUP.sub(value, route)


def view_source(view) -> str:
    """The view's source and that of the functions of its module it calls, transitively."""
    view = inspect.unwrap(getattr(view, "view_class", view))
    module = sys.modules.get(view.__module__)
    seen, sources, todo = set(), [], [view]
    while todo:
        function = todo.pop()
        if function in seen:
            continue
        seen.add(function)
        try:
            source = inspect.getsource(function)
        except (OSError, TypeError):
            continue
        sources.append(source)
        for name in re.findall(r"\b(\w+)\(", source):
            candidate = getattr(module, name, None)
            if inspect.isfunction(candidate) and candidate.__module__ == view.__module__:
                todo.append(candidate)
    return "\n".join(sources)


def parameters_read(view, method: str, model_forms: bool = True) -> set[str]:
    """Query (GET) or form (POST) parameters the view reads, found in its source."""
    source = view_source(view)
    names = set(re.findall(rf'request\.{method}(?:\.get|\.getlist)?[\[(]\s*"(\w+)"', source))
    module = sys.modules.get(inspect.unwrap(view).__module__)
    for form_name in re.findall(rf"(\w+)\(\s*request\.{method}\b", source):
        form = getattr(module, form_name, None)
        if not (isinstance(form, type) and issubclass(form, forms.BaseForm)):
            continue
        if model_forms or not issubclass(form, forms.BaseModelForm):
            names |= set(form.base_fields)
    return names


@pytest.fixture
def sweep(world):
    token = PersonFeed.for_user(world["owner"]).token
    valid = {
        "pk": str(PK),
        "improvement_pk": str(PK),
        "user_pk": str(world["teammate"].pk),
        "token": world["unit"].feed_token,
        "week": world["week"].iso_label,
        "name": "wip",
        "app_label": "retros",
        "object_id": str(PK),
        "id": str(world["teammate"].pk),
        "url": "retros/",
    }
    return {"world": world, "valid": valid, "person_token": token}


class Tally:
    def __init__(self):
        self.requests = 0
        self.values: set[str] = set()
        self.parameters: set[str] = set()
        self.failures: list[str] = []

    def send(self, client: Client, method: str, path: str, data=None, label="", **extra):
        with transaction.atomic():
            if method == "GET":
                response = client.get(path, data, **extra)
            else:
                response = client.post(path, data or {}, **extra)
            transaction.set_rollback(True)
        self.requests += 1
        if response.status_code >= 500:
            shown = path if len(path) < 150 else path[:150] + "…"
            sent = label or str(data)[:120]
            self.failures.append(f"{method} {shown} {sent} -> {response.status_code}")
        return response


@pytest.mark.parametrize("role", ["staff", "owner"])
def test_no_path_or_query_value_gives_a_server_error(sweep, role):
    client = Client(raise_request_exception=False)
    client.force_login(sweep["world"][role])
    tally = Tally()
    urls = 0
    for route, view in ROUTES:
        if "logout" in route:
            continue
        urls += 1
        is_admin = route.startswith("admin/")
        # Path parameters: one hostile value at a time, the others valid.
        for converter, name in parameters_of(route):
            tally.parameters.add(f"path {name}")
            for value in INT_VALUES if converter == "int" else TEXT_VALUES:
                tally.values.add(value)
                path = build(route, sweep["valid"], (name, value))
                tally.send(client, "GET", path)
                if not is_admin:
                    tally.send(client, "POST", path)
        path = build(route, sweep["valid"])
        if is_admin:
            is_changelist = "changelist" in getattr(view, "__name__", "")
            query = list(ADMIN_PARAMETERS) if is_changelist else []
        else:
            query = sorted(parameters_read(view, "GET"))
        query += API_PARAMETERS.get(route.rstrip("/"), [])
        # Query parameters: each alone, then all at once, with every hostile value.
        for name in query:
            tally.parameters.add(f"query {name}")
            for value in QUERY_VALUES:
                tally.values.add(value)
                tally.send(client, "GET", path, {name: value})
        for value in QUERY_VALUES if query else []:
            tally.send(client, "GET", path, dict.fromkeys(query, value))
        # Form parameters the view reads (model forms are fuzzed by test_hostile_input).
        for name in (
            sorted(parameters_read(view, "POST", model_forms=False)) if not is_admin else []
        ):
            tally.parameters.add(f"form {name}")
            for value in QUERY_VALUES:
                tally.values.add(value)
                tally.send(client, "POST", path, {name: value})
    # Every dashboard panel (the routes above name one): all its filters at once.
    views = dict(ROUTES)
    panel_query = sorted(parameters_read(views["dashboard/panel/<slug:name>/"], "GET"))
    for name in PANELS:
        for path in (f"/dashboard/panel/{name}/", f"/dashboard/{name}.csv"):
            for value in QUERY_VALUES:
                tally.send(client, "GET", path, dict.fromkeys(panel_query, value))
            tally.send(client, "GET", path, {"start": "1970-01-01", "end": "2999-12-31"})
    print(
        f"\nHostile URL sweep as {role}: {urls} URLs, {len(tally.parameters)} parameters "
        f"(path, query and form), {len(tally.values)} distinct values, {tally.requests} "
        f"requests, {len(tally.failures)} server errors"
    )
    assert urls > 100 and len(tally.parameters) > 40 and tally.requests > 3000
    assert not tally.failures, "\n".join(tally.failures[:30])


def test_the_sweep_finds_the_parameters_views_read():
    views = {route: view for route, view in ROUTES}
    assert {"week", "unit", "environment", "result", "trigger", "page"} <= parameters_read(
        views["deployments/"], "GET"
    )
    assert {"q", "finding"} <= parameters_read(views["improvements/search/"], "GET")
    assert "week" in parameters_read(views["retros/start/"], "POST")
    assert {"start", "end", "window", "format"} <= parameters_read(
        views["dashboard/panel/<slug:name>/"], "GET"
    )


# --- The API: every field of a deployment, and GitHub's webhook, with hostile JSON values. ---

JSON_VALUES = [
    "\x00",
    "ok\x00",
    "",
    "x" * 6000,
    "0001-01-01T00:00:00+05:00",
    "0001-01-01T00:00:00",
    "9999-12-31T23:59:59-05:00",
    "9999-12-31T23:59:59",
    "1000-01-01T00:00:00+00:00",
    "2026-02-30T10:00:00",
    -1,
    2**63,
    10**40,
    1e308,
    True,
    None,
    [],
    {},
    ["\x00"],
    {"\x00": "\x00"},
]
VALID_DEPLOYMENT = {
    "id": "pipeline-1",
    "startedDate": "2026-03-03T10:00:00+00:00",
    "finishedDate": "2026-03-03T10:42:00+00:00",
    "deploymentCommits": [{"repoUrl": "https://github.com/example/shop", "commitSha": "015e3d"}],
}


def nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def deployment_fields() -> list[str]:
    names = []
    for name, field in DeploymentIn.model_fields.items():
        aliases = getattr(field.validation_alias, "choices", None) or [name]
        names += [alias for alias in aliases if isinstance(alias, str)]
    return names + ["deploymentCommits.0.repoUrl", "deploymentCommits.0.commitSha"]


def with_value(body: dict, dotted: str, value) -> dict:
    body = json.loads(json.dumps(body))
    *parents, last = dotted.split(".")
    node = body
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[last] = value
    return body


def test_no_api_field_value_gives_a_server_error(db):
    _, key = ApiToken.issue("sweep")
    client = Client(raise_request_exception=False)
    tally = Tally()
    fields = deployment_fields()
    bodies = [
        (f"{f}={str(v)[:40]!r}", with_value(VALID_DEPLOYMENT, f, v))
        for f in fields
        for v in JSON_VALUES
    ]
    # An 8,000-year deployment, and dates whose UTC conversion leaves years 1 to 9999.
    bodies += [
        (
            "8,000 years",
            {
                **VALID_DEPLOYMENT,
                "startedDate": "1000-01-01T00:00:00Z",
                "finishedDate": "9000-01-01T00:00:00Z",
            },
        ),
        ("year 0 in UTC", {**VALID_DEPLOYMENT, "startedDate": "0001-01-01T00:30:00+01:00"}),
        ("year 10000 in UTC", {**VALID_DEPLOYMENT, "finishedDate": "9999-12-31T23:30:00-01:00"}),
    ]
    for label, body in bodies:
        before = Deployment.objects.count()
        response = tally.send(
            client,
            "POST",
            "/api/deployments",
            json.dumps(body),
            label=label,
            content_type="application/json",
            headers={"Authorization": f"Bearer {key}"},
        )
        if response.status_code >= 400 and response.status_code < 500:
            assert "reason" in response.json(), body
            assert Deployment.objects.count() == before
    for raw in [nested(10_000), nested(900), '{"id": "a\\u0000b"}', b"\xff\xfe"]:
        tally.send(
            client,
            "POST",
            "/api/deployments",
            raw,
            content_type="application/json",
            headers={"Authorization": f"Bearer {key}"},
        )
    for value in QUERY_VALUES:
        tally.send(
            client,
            "GET",
            "/api/deployments",
            {"external_id": value},
            headers={"Authorization": f"Bearer {key}"},
        )
    print(
        f"\nAPI sweep: {len(fields)} fields, {len(JSON_VALUES)} values each, "
        f"{tally.requests} requests, {len(tally.failures)} server errors"
    )
    assert len(fields) > 25 and tally.requests > 500
    assert not tally.failures, "\n".join(tally.failures[:30])


GITHUB_EVENT = {
    "action": "created",
    "deployment_status": {
        "state": "success",
        "environment": "production",
        "description": "Deployed",
        "created_at": "2026-03-03T10:42:00Z",
        "updated_at": "2026-03-03T10:42:00Z",
    },
    "deployment": {
        "id": 42,
        "sha": "015e3d",
        "ref": "main",
        "environment": "production",
        "description": "",
        "created_at": "2026-03-03T10:00:00Z",
    },
    "repository": {"html_url": "https://github.com/example/shop", "full_name": "example/shop"},
}


def leaves(node, prefix=""):
    for key, value in node.items():
        if isinstance(value, dict):
            yield from leaves(value, f"{prefix}{key}.")
        else:
            yield prefix + key


@override_settings(GITHUB_WEBHOOK_SECRET="sweep-secret")
def test_no_signed_webhook_value_gives_a_server_error(db):
    client = Client(raise_request_exception=False)
    tally = Tally()
    fields = list(leaves(GITHUB_EVENT))
    raws = [
        (f"{f}={str(v)[:40]!r}", json.dumps(with_value(GITHUB_EVENT, f, v)).encode())
        for f in fields
        for v in JSON_VALUES
    ]
    raws += [
        ("nested 10,000 deep", nested(10_000).encode()),
        ("nested 900 deep", nested(900).encode()),
        ("NUL in action", b'{"action": "\\u0000"}'),
        ("a NUL byte", b"\x00"),
    ]
    for label, raw in raws:
        signature = "sha256=" + hmac.new(b"sweep-secret", raw, hashlib.sha256).hexdigest()
        tally.send(
            client,
            "POST",
            "/api/webhooks/github",
            raw,
            label=label,
            content_type="application/json",
            headers={"X-Hub-Signature-256": signature, "X-GitHub-Event": "deployment_status"},
        )
    print(
        f"\nWebhook sweep: {len(fields)} fields, {len(JSON_VALUES)} values each, "
        f"{tally.requests} signed deliveries, {len(tally.failures)} server errors"
    )
    assert len(fields) > 10 and tally.requests > 250
    assert not tally.failures, "\n".join(tally.failures[:30])
