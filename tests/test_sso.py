"""Single sign-on end to end against a real OpenID Connect provider on loopback.

The provider is django-oauth-toolkit (tests/oidc_provider), started in its own process with
its own database and RSA key. A `requests` session plays the browser at the provider;
Django's test client plays it at Wallbreaker, whose backend talks to the provider over HTTP
for discovery, the token exchange (with the PKCE verifier), the signing keys and userinfo.
"""

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.contrib.auth import get_user_model

from config import sso
from tests.factories import UserFactory
from tests.reliability.servers import free_port

ROOT = Path(settings.BASE_DIR)
CLIENT_SECRET = "wallbreaker-client-secret-for-tests"
OUR_SITE = "http://testserver"


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    folder = tmp_path_factory.mktemp("oidc-provider")
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)},
        "DJANGO_SETTINGS_MODULE": "tests.oidc_provider.settings",
        "OIDC_PROVIDER_DB": str(folder / "provider.sqlite3"),
        "OIDC_PROVIDER_KEY": pem,
        "OIDC_PROVIDER_CLIENT_SECRET": CLIENT_SECRET,
        "PYTHONPATH": str(ROOT),
    }
    run = {"cwd": ROOT, "env": env, "check": True, "capture_output": True}
    subprocess.run([sys.executable, "-m", "django", "migrate", "-v0"], **run)
    seed = "import django; django.setup(); from tests.oidc_provider.seed import seed; seed()"
    subprocess.run([sys.executable, "-c", seed], **run)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    issuer = f"http://127.0.0.1:{port}/o"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "the test provider did not start"
            time.sleep(0.2)
        yield issuer
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(autouse=True)
def company_sso(provider, settings):
    settings.OIDC_ISSUER = provider
    settings.OIDC_RP_CLIENT_ID = "wallbreaker"
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_ALLOWED_EMAIL_DOMAINS = ["acme.example"]
    settings.OIDC_STAFF_CLAIM = "groups"
    settings.OIDC_STAFF_VALUES = ["wb-admins"]
    settings.SITE_URL = OUR_SITE
    settings.AUTHENTICATION_BACKENDS = [
        *settings.AUTHENTICATION_BACKENDS,
        "config.sso.CompanyAccountBackend",
    ]
    sso._discovered.clear()


def at_provider(client, username: str):
    """Start at Wallbreaker, log in at the provider; returns the callback URL it sends back."""
    start = client.get("/oidc/authenticate/?next=/board/")
    assert start.status_code == 302
    authorize = start["Location"]
    browser = requests.Session()
    to_login = browser.get(authorize, allow_redirects=False)
    login_url = urljoin(authorize, to_login.headers["Location"])
    browser.get(login_url)
    logged_in = browser.post(
        login_url,
        data={
            "username": username,
            "password": "provider-password",
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
            "next": parse_qs(urlsplit(login_url).query)["next"][0],
        },
        allow_redirects=False,
    )
    assert logged_in.status_code == 302, logged_in.text[:500]
    back = browser.get(urljoin(login_url, logged_in.headers["Location"]), allow_redirects=False)
    callback = back.headers.get("Location", f"(answered {back.status_code})")
    assert callback.startswith(f"{OUR_SITE}/oidc/callback/"), callback
    return callback.removeprefix(OUR_SITE), authorize, browser


def test_discovery_names_the_endpoints_and_the_request_carries_state_nonce_and_pkce(
    db, client, provider
):
    document = sso.discovery()
    assert document["issuer"] == provider
    start = client.get("/oidc/authenticate/")
    location = start["Location"]
    assert location.startswith(document["authorization_endpoint"])
    query = parse_qs(urlsplit(location).query)
    assert query["client_id"] == ["wallbreaker"]
    assert query["response_type"] == ["code"]
    assert query["redirect_uri"] == [f"{OUR_SITE}/oidc/callback/"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32
    assert len(query["code_challenge"][0]) == 43  # base64url of a SHA-256
    assert set(query["scope"][0].split()) == {"openid", "email", "profile"}


def test_a_verified_colleague_signs_in_and_becomes_a_user(db, client):
    callback, _authorize, _browser = at_provider(client, "alice")
    response = client.get(callback)
    assert response.status_code == 302 and response["Location"] == "/board/"
    user = get_user_model().objects.get(email="alice@acme.example")
    assert (user.username, user.first_name, user.is_staff) == ("alice", "Alice", True)
    assert not user.has_usable_password()
    assert client.get("/board/").status_code == 200


def test_an_existing_user_is_matched_by_verified_email(db, client):
    carol = UserFactory(username="cmeyer", email="carol@acme.example", is_staff=True)
    callback, _a, _b = at_provider(client, "carol")  # the provider says Carol@ACME.example
    assert client.get(callback).status_code == 302
    assert get_user_model().objects.filter(email__iexact="carol@acme.example").count() == 1
    assert client.session["_auth_user_id"] == str(carol.pk)
    carol.refresh_from_db()
    assert carol.is_staff is False  # the staff claim decides, both ways


def test_a_wrong_state_is_refused(db, client):
    callback, _a, _b = at_provider(client, "alice")
    forged = callback.replace("state=", "state=forged")
    response = client.get(forged)
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session
    assert not get_user_model().objects.filter(email="alice@acme.example").exists()


def test_a_callback_cannot_be_replayed(db, client):
    callback, _a, _b = at_provider(client, "alice")
    assert client.get(callback).status_code == 302
    client.logout()
    assert client.get(callback).status_code in (302, 400)
    assert "_auth_user_id" not in client.session


def test_an_unverified_email_is_refused(db, client):
    callback, _a, _b = at_provider(client, "bob")
    response = client.get(callback, follow=True)
    assert response.redirect_chain[0][0] == "/accounts/login/"
    assert "The provider has not verified bob@acme.example." in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not get_user_model().objects.filter(email="bob@acme.example").exists()


def test_an_email_from_another_domain_is_refused(db, client):
    callback, _a, _b = at_provider(client, "eve")
    response = client.get(callback, follow=True)
    assert "Addresses at evil.example may not sign in here." in response.content.decode()
    assert not get_user_model().objects.filter(email="eve@evil.example").exists()


def test_a_deactivated_user_is_refused(db, client):
    UserFactory(username="alice", email="alice@acme.example", is_active=False)
    callback, _a, _b = at_provider(client, "alice")
    response = client.get(callback, follow=True)
    assert "_auth_user_id" not in client.session
    assert "deactivated" in response.content.decode()


def test_the_provider_refuses_a_client_without_pkce(db, client, settings):
    """The provider requires PKCE, so the successful sign-ins above prove we send it."""
    settings.OIDC_USE_PKCE = False
    callback, _a, _b = at_provider(client, "alice")
    assert "error=invalid_request" in callback and "code=" not in callback
    response = client.get(callback, follow=True)
    assert "Single sign-on did not complete." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_ends_the_session_here_and_at_the_provider(db, client, provider):
    callback, authorize, browser = at_provider(client, "alice")
    client.get(callback)
    response = client.post("/oidc/logout/")
    assert response.status_code == 302
    end_session = response["Location"]
    assert end_session.startswith(sso.discovery()["end_session_endpoint"])
    query = parse_qs(urlsplit(end_session).query)
    assert query["post_logout_redirect_uri"] == [f"{OUR_SITE}/accounts/login/"]
    assert query["id_token_hint"]
    assert client.get("/board/").status_code == 302  # logged out here
    at_the_provider = browser.get(end_session, allow_redirects=False)
    assert at_the_provider.headers["Location"] == f"{OUR_SITE}/accounts/login/"
    again = browser.get(authorize, allow_redirects=False)
    assert "/accounts/login/" in again.headers["Location"]  # logged out there too


def test_the_login_page_offers_the_company_sign_in(client, settings):
    settings.OIDC_PROVIDER_NAME = "Acme Login"
    page = client.get("/accounts/login/").content.decode()
    assert "Sign in with Acme Login" in page
    assert 'name="password"' in page


def test_local_login_can_be_switched_off(db, client, settings):
    settings.LOCAL_LOGIN = False
    settings.AUTHENTICATION_BACKENDS = ["config.sso.CompanyAccountBackend"]
    UserFactory(username="local", password="local-password-1")
    page = client.get("/accounts/login/").content.decode()
    assert 'name="password"' not in page and "Sign in with" in page
    response = client.post(
        "/accounts/login/", {"username": "local", "password": "local-password-1"}, follow=True
    )
    assert "_auth_user_id" not in client.session
    assert "Sign in with your company account." in response.content.decode()


def test_without_configuration_the_sso_urls_do_not_exist(client, settings):
    settings.OIDC_ISSUER = ""
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/?code=x&state=y").status_code == 404
    assert "Sign in with" not in client.get("/accounts/login/").content.decode()


def test_password_login_works_while_the_provider_is_away(db, client, settings):
    settings.OIDC_ISSUER = "http://127.0.0.1:9/nobody-listens"
    sso._discovered.clear()
    UserFactory(username="local", password="local-password-1")
    response = client.post(
        "/accounts/login/", {"username": "local", "password": "local-password-1"}
    )
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def test_a_provider_that_is_away_is_said_so(client, settings):
    settings.OIDC_ISSUER = "http://127.0.0.1:9/nobody-listens"
    sso._discovered.clear()
    response = client.get("/oidc/authenticate/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/"
    assert "cannot be reached" in response.content.decode()


def test_local_login_stays_when_switched_off_without_sso(db, client, settings):
    settings.OIDC_ISSUER = ""
    settings.LOCAL_LOGIN = False
    UserFactory(username="local", password="local-password-1")
    assert 'name="password"' in client.get("/accounts/login/").content.decode()
    client.post("/accounts/login/", {"username": "local", "password": "local-password-1"})
    assert "_auth_user_id" in client.session
