"""Every URL the app serves, as anonymous, outsider, teammate, owner and staff, by GET and POST.

The URL list comes from the resolver, so a new view is covered the moment it is routed. For
each URL a small world is built in which every object a URL can name has pk 9001. Then:

- anonymous: pages redirect to login; the API answers 401; nothing is written;
- outsider (logged in, in no unit): may read; every POST is refused (403 or 405) and the
  database is exactly as before;
- teammate, owner and staff: never a server error; a refusal (403) writes nothing.
"""

import hashlib
import json

import pytest
from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from improvements.reporting.panels import PANELS
from tests.conftest import MATRIX_PK as PK

# Reachable without a session: they authenticate otherwise (token, HMAC) or are the way in.
PUBLIC = {
    "login",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "healthz",
    "teams:unit_feed",
    "teams:person_feed",
    "api:openapi-json",
    "api:api-root",
    "oidc_authentication_init",
    "oidc_authentication_callback",
}
# POSTs that write nothing for anyone: redirects to a page the user may see anyway.
NO_OP_POSTS = {"home", "admin:index", "retros:retro_start"}
API_PREFIX = "api/"
# Writes a logged-in user may make about themselves only.
SELF_SERVICE = {"logout", "oidc_logout", "password_change", "teams:person_feed_regenerate"}
SKIPPED = {"password_reset_confirm"}  # needs a signed token; Django's own view, tested upstream


def walk(patterns, prefix="", namespace=""):
    """(route, name) of every URL, the name with its namespaces as `reverse()` takes it."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern) and pattern.name not in SKIPPED:
            yield prefix + str(pattern.pattern), namespace + pattern.name if pattern.name else None


ROUTES = [
    (route, name)
    for route, name in walk(get_resolver().url_patterns)
    if not route.startswith("admin/")
] + [("admin/", "admin:index")]


def fill(route: str, world: dict) -> str:
    values = {
        "<int:pk>": str(PK),
        "<int:improvement_pk>": str(PK),
        "<int:user_pk>": str(world["teammate"].pk),
        "<str:token>": world["unit"].feed_token,
        "<str:week>": world["week"].iso_label,
        "<slug:name>": PANELS[0],
    }
    path = route
    for placeholder, value in values.items():
        path = path.replace(placeholder, value)
    assert "<" not in path, f"add a sample value for {route} to the access matrix"
    return "/" + path.lstrip("^").rstrip("$")


def snapshot() -> str:
    """A digest of every row of every model but sessions and login bookkeeping."""
    digest = hashlib.sha256()
    for model in apps.get_models():
        if model._meta.app_label in {"sessions", "axes", "admin", "contenttypes"}:
            continue
        rows = list(model.objects.order_by("pk").values())
        for row in rows:
            row.pop("last_login", None)
        digest.update(json.dumps(rows, cls=DjangoJSONEncoder, sort_keys=True).encode())
    return digest.hexdigest()


def client_for(user) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def call(client: Client, method: str, path: str):
    with transaction.atomic():
        before = snapshot()
        response = client.get(path) if method == "GET" else client.post(path, {})
        changed = snapshot() != before
        transaction.set_rollback(True)
    return response, changed


@pytest.mark.parametrize(("route", "name"), ROUTES, ids=[name for _, name in ROUTES])
def test_every_url_answers_each_role_as_it_should(world, route, name):
    path = fill(route, world)
    is_api = route.startswith(API_PREFIX)
    failures = []
    for role in ["anonymous", "outsider", "teammate", "owner", "staff"]:
        client = client_for(None if role == "anonymous" else world[role])
        for method in ["GET", "POST"]:
            response, changed = call(client, method, path)
            status = response.status_code
            where = f"{role} {method} {path} -> {status}"
            if status >= 500:
                failures.append(f"{where}: server error")
            elif role == "anonymous" and name not in PUBLIC:
                if is_api:
                    if status not in (401, 403, 405):
                        failures.append(f"{where}: the API must refuse without a token")
                elif name == "admin:index":
                    if status != 302:
                        failures.append(f"{where}: admin must send anonymous to its login")
                elif not (status == 302 and "/accounts/login/" in response["Location"]):
                    failures.append(f"{where}: must redirect to login")
                if changed:
                    failures.append(f"{where}: anonymous wrote to the database")
            elif role == "outsider" and method == "POST" and name not in SELF_SERVICE | PUBLIC:
                if status not in (401, 403, 405) and name not in NO_OP_POSTS:
                    failures.append(f"{where}: an outsider's write must be refused")
                if changed:
                    failures.append(f"{where}: an outsider wrote to the database")
            elif status in (401, 403) and changed:
                failures.append(f"{where}: refused, yet the database changed")
    assert not failures, "\n".join(failures)


def test_the_matrix_covers_every_routed_view():
    names = {name for _, name in ROUTES}
    assert {
        "board:board",
        "board:card_move",
        "retros:retro_detail",
        "retros:finding_add",
        "reporting:dashboard",
    } <= names
    assert len(ROUTES) > 40
