"""Security properties that hold for the whole app: headers, CSP, throttling, deploy checks."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.db.utils import OperationalError
from django.test import Client
from django.urls import reverse

ROOT = Path(settings.BASE_DIR)


def test_pages_send_a_strict_content_security_policy_and_security_headers(outsider_client):
    response = outsider_client.get(reverse("board:board"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_templates_have_no_inline_script_style_or_eval_handlers():
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        for pattern in (
            r"<script(?![^>]*\bsrc=)(?![^>]*application/json)",
            r"\sstyle=",
            r"<style",
            r"hx-on",
            r"\son[a-z]+=",
        ):
            if re.search(pattern, text):
                offenders.append(f"{template.relative_to(ROOT)}: {pattern}")
    assert not offenders, offenders


def test_production_settings_pass_the_deploy_check_without_warnings():
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "wallbreaker.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_settings_refuse_to_start_without_a_secret_key_in_production():
    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": ""}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_repeated_wrong_passwords_lock_the_login_even_for_the_right_password(client, owner):
    login = reverse("login")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(login, {"username": "owner", "password": "wrong"})
    response = client.post(login, {"username": "owner", "password": "password"})
    assert response.status_code == 429
    assert b"Too many failed logins" in response.content
    assert "_auth_user_id" not in client.session


def test_the_right_password_logs_in_below_the_limit(client, owner):
    client.post(reverse("login"), {"username": "owner", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "owner", "password": "password"})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(owner.pk)


def fail_logins(client, address, forwarded, times):
    for _ in range(times):
        client.post(
            reverse("login"),
            {"username": "owner", "password": "wrong"},
            REMOTE_ADDR=address,
            HTTP_X_FORWARDED_FOR=forwarded,
        )


def log_in(client, address, forwarded):
    return client.post(
        reverse("login"),
        {"username": "owner", "password": "password"},
        REMOTE_ADDR=address,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


def test_behind_a_trusted_proxy_the_lockout_keys_on_the_client_not_the_proxy(
    client, owner, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    balancer = "10.0.0.5"
    fail_logins(client, balancer, "203.0.113.7", settings.AXES_FAILURE_LIMIT)
    assert log_in(client, balancer, "203.0.113.7").status_code == 429
    # The same user from another address, through the same balancer, still gets in.
    assert log_in(Client(), balancer, "198.51.100.20").status_code == 302


def test_a_forged_forwarded_address_does_not_dodge_the_lockout(client, owner, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client sends its own X-Forwarded-For; the balancer appends the address it saw.
    for forged in range(settings.AXES_FAILURE_LIMIT):
        fail_logins(client, "10.0.0.5", f"192.0.2.{forged}, 203.0.113.7", 1)
    assert log_in(client, "10.0.0.5", "192.0.2.99, 203.0.113.7").status_code == 429


def test_without_trusted_proxies_the_forwarded_header_is_ignored(client, owner, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for forged in range(settings.AXES_FAILURE_LIMIT):
        fail_logins(client, "203.0.113.7", f"192.0.2.{forged}", 1)
    assert log_in(client, "203.0.113.7", "192.0.2.99").status_code == 429


def test_login_form_requires_a_csrf_token(db, owner):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "owner", "password": "password"})
    assert response.status_code == 403


def test_healthz_reports_a_reachable_database_without_login(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_when_the_database_is_unreachable(client, db):
    with mock.patch("config.health.connection.cursor", side_effect=OperationalError("down")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


@pytest.mark.parametrize("name", ["board:board", "retros:retro_list", "reporting:dashboard"])
def test_anonymous_users_are_sent_to_login(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
