"""Hostile and bad input everywhere: stored XSS is inert on every page, and fuzzed forms and API
bodies never cause a server error or leave half-written rows.

Forms are found by reading every page the app serves (as staff) and collecting each
<form method="post">, so a new form is fuzzed as soon as a page shows it.
"""

import csv
import io
import json
from html.parser import HTMLParser

import pytest
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from improvements.models import Category, Column, Improvement
from retros.models import (
    ApiToken,
    Deployment,
    DeploymentRun,
    Finding,
    ProcessStep,
    Retrospective,
    RunStep,
    Unit,
)
from tests.test_access_matrix import PK, ROUTES, fill, snapshot

SCRIPT = "<script>alert('xss')</script>"
IMAGE = '<img src=x onerror="alert(1)">'
LINK = "[click](javascript:alert(1))"
DATA_LINK = '<a href="data:text/html;base64,PHNjcmlwdD4=">d</a>'
PAYLOAD = f'{SCRIPT} {IMAGE} {LINK} {DATA_LINK} =HYPERLINK("http://evil")'


@pytest.fixture
def hostile(world):
    """Every user-written text field of the world set to the payload."""
    Unit.objects.filter(pk=PK).update(name="Unit " + PAYLOAD[:80])
    Finding.objects.filter(pk=PK).update(text=PAYLOAD)
    Retrospective.objects.filter(pk=PK).update(summary=PAYLOAD, status="submitted")
    Improvement.objects.filter(pk=PK).update(
        title=PAYLOAD[:200],
        description=PAYLOAD,
        expected_effect=PAYLOAD[:200],
        dropped_reason=PAYLOAD[:300],
    )
    Deployment.objects.filter(pk=PK).update(
        notes=PAYLOAD, blocked_cause=PAYLOAD[:200], version=PAYLOAD[:100]
    )
    ProcessStep.objects.filter(pk=PK).update(title=PAYLOAD[:200], how_to=PAYLOAD)
    DeploymentRun.objects.filter(pk=PK).update(version=PAYLOAD[:100], pipeline_id=PAYLOAD[:190])
    RunStep.objects.filter(pk=PK).update(
        title=PAYLOAD[:200], how_to=PAYLOAD, state="blocked", block_cause=PAYLOAD[:200]
    )
    Category.objects.filter(pk=PK).update(name=PAYLOAD[:60])
    Column.objects.filter(pk=PK).update(name=PAYLOAD[:60])
    from improvements.models import Comment

    Comment.objects.filter(improvement_id=PK).update(body=PAYLOAD)
    return world


def get_pages(staff):
    client = Client()
    client.force_login(staff)
    for route, name in ROUTES:
        if route.startswith("api/webhooks") or name in {"logout", "admin:index"}:
            continue
        path = fill(
            route,
            {
                "unit": Unit.objects.get(pk=PK),
                "teammate": staff,
                "week": Retrospective.objects.get(pk=PK).duty_week,
            },
        )
        response = client.get(path)
        if response.status_code == 200 and not response.streaming:
            yield path, response


class ActiveContent(HTMLParser):
    """Finds what a browser would run: inline scripts, on* handlers, javascript:/data: links."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if name in ("href", "src", "action", "formaction") and value.startswith(
                ("javascript:", "data:text", "vbscript:")
            ):
                self.found.append(f"<{tag} {name}={value[:30]}>")
        attributes = dict(attrs)
        if (
            tag == "script"
            and "src" not in attributes
            and attributes.get("type") != "application/json"
        ):
            self.found.append("<script> without src")


def test_stored_script_is_inert_on_every_page(hostile, staff):
    checked = 0
    for path, response in get_pages(staff):
        if "html" not in response.get("Content-Type", ""):
            continue
        scanner = ActiveContent()
        scanner.feed(response.content.decode())
        assert not scanner.found, f"{path}: {scanner.found}"
        assert SCRIPT not in response.content.decode(), f"{path} shows a raw script tag"
        checked += 1
    assert checked > 25


def rows_of_csv(response) -> list[list[str]]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(content.decode())))


def test_csv_exports_defuse_formulas(hostile, staff):
    client = Client()
    client.force_login(staff)
    exports = [
        path
        for route, name in ROUTES
        if route.endswith(".csv")
        for path in [
            fill(route, {"unit": hostile["unit"], "teammate": staff, "week": hostile["week"]})
        ]
    ]
    assert exports
    for path in exports:
        for row in rows_of_csv(client.get(path)):
            for cell in row:
                assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), f"{path}: {cell[:30]!r}"
    deployments = rows_of_csv(client.get("/deployments/export.csv"))
    assert any(cell.startswith("'") or "=HYPERLINK" in cell for row in deployments for cell in row)


class FormFinder(HTMLParser):
    """Collects every POST form: its action and its fields with sample values."""

    def __init__(self):
        super().__init__()
        self.forms, self.current, self.select = [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("method", "get").lower() == "post":
            self.current = {"action": attrs.get("action") or "", "fields": {}}
            self.forms.append(self.current)
        elif self.current is None:
            return
        elif tag in ("input", "textarea") and attrs.get("name"):
            if attrs.get("type") not in ("submit", "button"):
                self.current["fields"].setdefault(attrs["name"], []).append(attrs.get("value", ""))
        elif tag == "select" and attrs.get("name"):
            self.select = attrs["name"]
            self.current["fields"].setdefault(self.select, [])
        elif tag == "option" and self.select:
            self.current["fields"][self.select].append(attrs.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None


def all_forms(staff) -> dict[str, dict]:
    forms = {}
    for path, response in get_pages(staff):
        if "html" not in response.get("Content-Type", ""):
            continue
        finder = FormFinder()
        finder.feed(response.content.decode())
        for form in finder.forms:
            action = form["action"] or path
            if action.startswith("/") and "logout" not in action:
                forms.setdefault(action, form["fields"])
    return forms


nasty_text = st.one_of(
    st.text(max_size=50),
    st.text(min_size=3000, max_size=6000),
    st.just(""),
    st.just(PAYLOAD),
    st.sampled_from(
        ["-1", "0", "99999999999999999999", "1e9", "NaN", "2026-02-30", "\x00", "9001"]
    ),
)


def test_fuzzed_forms_never_fail_or_half_write(world, staff):
    client = Client(raise_request_exception=False)
    client.force_login(staff)
    problems = []

    def fuzzer(action, fields):
        @settings(
            max_examples=12, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(data=st.data())
        def fuzz(data):
            body = {}
            for name, samples in fields.items():
                if name == "csrfmiddlewaretoken":
                    continue
                choices = [value for value in samples if value] or [""]
                body[name] = data.draw(st.one_of(st.sampled_from(choices), nasty_text), label=name)
            with transaction.atomic():
                before = snapshot()
                response = client.post(action, body, headers={"HX-Request": "true"})
                changed = snapshot() != before
                transaction.set_rollback(True)
            status = response.status_code
            if status >= 500:
                problems.append(f"POST {action} {status} with {sorted(body)}")
            refused = status >= 400 or b'class="errorlist' in response.content
            if refused and changed and status != 409:
                problems.append(f"POST {action} refused ({status}) yet wrote to the database")

        return fuzz

    # A draft retro shows its finding forms; a submitted one its triage forms.
    fuzzed: set[str] = set()
    for status in ("draft", "submitted"):
        Retrospective.objects.filter(pk=PK).update(status=status)
        forms = all_forms(staff)
        for action, fields in sorted(forms.items()):
            if action not in fuzzed:
                fuzzed.add(action)
                fuzzer(action, fields)()
    assert len(fuzzed) > 35, sorted(fuzzed)
    assert any("/promote/" in action for action in fuzzed)
    assert not problems, "\n".join(problems[:20])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
deployment_like = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.text(max_size=40), st.integers()),
        "result": st.one_of(
            st.sampled_from(["SUCCESS", "FAILURE", "ABORT", "MANUAL"]), json_values
        ),
        "environment": st.one_of(st.sampled_from(["PRODUCTION", "STAGING"]), json_values),
        "startedDate": st.one_of(st.just("2026-03-03T10:00:00+00:00"), json_values),
        "finishedDate": st.one_of(st.just("2026-03-03T09:00:00+00:00"), json_values),
        "hands_on_minutes": json_values,
        "deploymentCommits": json_values,
        "notes": st.text(max_size=300),
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=st.one_of(deployment_like, json_values, st.binary(max_size=200)))
def test_the_deployment_api_answers_any_body_with_a_reason_and_never_half_writes(db, body):
    _, key = ApiToken.issue("fuzz")
    client = Client(raise_request_exception=False)
    raw = body if isinstance(body, bytes) else json.dumps(body)
    with transaction.atomic():
        count = Deployment.objects.count()
        response = client.post(
            "/api/deployments",
            raw,
            content_type="application/json",
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code < 500, response.content[:300]
        if response.status_code >= 400:
            assert Deployment.objects.count() == count
            assert "reason" in response.json() or "detail" in response.json()
        transaction.set_rollback(True)


def test_every_form_refuses_a_post_without_its_csrf_token(world, staff):
    forms = all_forms(staff)
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    accepted = [action for action in sorted(forms) if client.post(action, {}).status_code != 403]
    assert not accepted, f"these forms took a POST without a CSRF token: {accepted}"


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    body=st.one_of(json_values, st.binary(max_size=200)),
    kind=st.sampled_from(["deployment_status", "push", "ping", "", "x" * 300]),
)
def test_signed_github_webhooks_with_any_body_never_fail(db, body, kind):
    """Even a correctly signed body may be nonsense: a clear 4xx or an acknowledgement."""
    import hashlib
    import hmac

    from django.test import override_settings

    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    signature = "sha256=" + hmac.new(b"fuzz-secret", raw, hashlib.sha256).hexdigest()
    client = Client(raise_request_exception=False)
    with override_settings(GITHUB_WEBHOOK_SECRET="fuzz-secret"), transaction.atomic():
        count = Deployment.objects.count()
        response = client.post(
            "/api/webhooks/github",
            raw,
            content_type="application/json",
            headers={"X-Hub-Signature-256": signature, "X-GitHub-Event": kind},
        )
        assert response.status_code < 500, response.content[:300]
        if response.status_code >= 400:
            assert Deployment.objects.count() == count
        transaction.set_rollback(True)
