"""Single sign-on with the company's OpenID Connect provider, through mozilla-django-oidc.

Everything comes from the environment (see config/settings.py): the issuer, whose discovery
document names the endpoints; the client id and secret; the email domains allowed in; an
optional claim that makes a person staff. The code flow runs with state, nonce and PKCE (S256);
the ID token's signature is checked against the provider's published keys.

A person is matched to an existing user by verified email (case-insensitive); otherwise a user
is created from the claims. Refused: an email the provider has not verified (unless
OIDC_REQUIRE_VERIFIED_EMAIL is off, for providers that only hand out addresses they own), an
email outside OIDC_ALLOWED_EMAIL_DOMAINS, a deactivated user.
"""

import logging
import threading
import time
from typing import Any
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
    OIDCLogoutView,
)

logger = logging.getLogger(__name__)

# mozilla-django-oidc setting → the discovery document's key for it.
FROM_DISCOVERY = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
DISCOVERY_MAX_AGE = 3600.0
_discovered: dict[str, tuple[float, dict[str, Any]]] = {}
_discovery_lock = threading.Lock()


def sso_enabled() -> bool:
    return bool(settings.OIDC_ISSUER and settings.OIDC_RP_CLIENT_ID)


def discovery() -> dict[str, Any]:
    """The provider's /.well-known/openid-configuration, kept for an hour per process.

    Only a cache: a restarted process (or another instance) reads it again.
    """
    issuer = settings.OIDC_ISSUER.rstrip("/")
    with _discovery_lock:
        fetched = _discovered.get(issuer)
        if fetched and time.monotonic() - fetched[0] < DISCOVERY_MAX_AGE:
            return fetched[1]
    response = requests.get(
        f"{issuer}/.well-known/openid-configuration", timeout=settings.OIDC_TIMEOUT
    )
    response.raise_for_status()
    document = response.json()
    if document.get("issuer", "").rstrip("/") != issuer:
        raise ImproperlyConfigured(
            f"The provider calls itself {document.get('issuer')!r}, not OIDC_ISSUER {issuer!r}."
        )
    with _discovery_lock:
        _discovered[issuer] = (time.monotonic(), document)
    return document


def sso_setting(name: str, *default: Any) -> Any:
    """mozilla-django-oidc's settings, with the provider's endpoints from discovery unless an
    OIDC_OP_* setting names them."""
    if name in FROM_DISCOVERY and not getattr(settings, name, None) and sso_enabled():
        return discovery()[FROM_DISCOVERY[name]]
    return import_from_settings(name, *default)


def username_for(email: str, claims: dict[str, Any] | None = None) -> str:
    """A readable, unique username: the email's local part, numbered if it is taken."""
    users = get_user_model().objects
    base = (email or "user").split("@")[0][:140] or "user"
    candidate, number = base, 1
    while users.filter(username__iexact=candidate).exists():
        number += 1
        candidate = f"{base}{number}"
    return candidate


# Why a sign-in was refused, kept on the request for CallbackView.login_failure to show.
_REFUSAL = "sso_refusal"


def _refuse(request: HttpRequest | None, reason: str) -> None:
    if request is not None:
        setattr(request, _REFUSAL, reason)
    raise SuspiciousOperation(reason)


# What the backend reads, with the library's defaults; looked up when a sign-in needs it.
BACKEND_SETTINGS = {
    "OIDC_OP_TOKEN_ENDPOINT": (),
    "OIDC_OP_USER_ENDPOINT": (),
    "OIDC_OP_JWKS_ENDPOINT": (None,),
    "OIDC_RP_CLIENT_ID": (),
    "OIDC_RP_CLIENT_SECRET": (),
    "OIDC_RP_SIGN_ALGO": ("HS256",),
    "OIDC_RP_IDP_SIGN_KEY": (None,),
}


class CompanyAccountBackend(OIDCAuthenticationBackend):
    """The library's backend, reading the provider's endpoints only during a sign-in.

    Its own __init__ resolves them when Django builds the backend list, which is at every
    password login too: that would fetch the discovery document then, and fail every local
    login while the provider is away.
    """

    get_settings = staticmethod(sso_setting)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.UserModel = get_user_model()

    def __getattr__(self, name: str) -> Any:
        if name in BACKEND_SETTINGS:
            return sso_setting(name, *BACKEND_SETTINGS[name])
        raise AttributeError(name)

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> User | None:
        if request is None or "code" not in request.GET or not sso_enabled():
            return None
        return super().authenticate(request, **kwargs)

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        email = (claims.get("email") or "").strip()
        request = getattr(self, "request", None)
        if not email or "@" not in email:
            _refuse(request, "Your company account has no email address.")
        if settings.OIDC_REQUIRE_VERIFIED_EMAIL and claims.get("email_verified") not in (
            True,
            "true",
        ):
            _refuse(request, f"The provider has not verified {email}.")
        domain = email.rsplit("@", 1)[1].lower()
        allowed = settings.OIDC_ALLOWED_EMAIL_DOMAINS
        if allowed and domain not in allowed:
            _refuse(request, f"Addresses at {domain} may not sign in here.")
        return True

    def filter_users_by_claims(self, claims: dict[str, Any]) -> QuerySet[User]:
        return self.UserModel.objects.filter(email__iexact=claims["email"].strip())

    def create_user(self, claims: dict[str, Any]) -> User:
        email = claims["email"].strip()
        user = self.UserModel(
            username=username_for(email),
            email=email,
            first_name=(claims.get("given_name") or "")[:150],
            last_name=(claims.get("family_name") or "")[:150],
        )
        user.set_unusable_password()
        user.is_staff = self._is_staff(claims) is True
        user.save()
        return user

    def update_user(self, user: User, claims: dict[str, Any]) -> User:
        if not user.is_active:
            _refuse(getattr(self, "request", None), "This account is deactivated.")
        staff = self._is_staff(claims)
        if staff is not None and user.is_staff != staff:
            user.is_staff = staff
            user.save(update_fields=["is_staff"])
        return user

    @staticmethod
    def _is_staff(claims: dict[str, Any]) -> bool | None:
        """Whether the staff claim makes this person staff; None when no claim is configured."""
        claim = settings.OIDC_STAFF_CLAIM
        if not claim:
            return None
        value = claims.get(claim)
        values = value if isinstance(value, list) else [value]
        wanted = set(settings.OIDC_STAFF_VALUES)
        return any(str(v) in wanted for v in values if v is not None) if wanted else bool(value)


UNREACHABLE = "The sign-in service cannot be reached just now; try again in a minute."


class SignInView(OIDCAuthenticationRequestView):
    """Sends the browser to the provider (state, nonce and PKCE kept in the session)."""

    get_settings = staticmethod(sso_setting)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        View.__init__(self, *args, **kwargs)  # the endpoints are read in get()

    def get(self, request: HttpRequest) -> HttpResponse:
        if not sso_enabled():
            raise Http404("Single sign-on is not configured.")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = sso_setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except (requests.RequestException, ValueError, KeyError, ImproperlyConfigured):
            logger.exception("OpenID Connect discovery failed")
            messages.error(request, UNREACHABLE)
            return redirect("login")
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().get(request)


class CallbackView(OIDCAuthenticationCallbackView):
    """Back from the provider: a refusal returns to the login page saying why.

    A state this browser never sent is not a refusal but an attack or a stale tab: 400.
    """

    get_settings = staticmethod(sso_setting)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not sso_enabled():
            raise Http404("Single sign-on is not configured.")
        try:
            return super().get(request)
        except (requests.RequestException, ImproperlyConfigured):
            logger.exception("OpenID Connect sign-in could not reach the provider")
            setattr(self.request, _REFUSAL, UNREACHABLE)
            return self.login_failure()

    def login_failure(self) -> HttpResponse:
        reason = getattr(self.request, _REFUSAL, "") or "Single sign-on did not complete."
        messages.error(self.request, reason)
        return redirect("login")


class LogoutView(OIDCLogoutView):
    http_method_names = ["post"]


def provider_logout_url(request: HttpRequest) -> str:
    """Where to end the provider's session too (RP-initiated logout), if it offers that."""
    login = settings.SITE_URL.rstrip("/") + reverse("login")
    if not sso_enabled():
        return reverse("login")
    try:
        end_session = discovery().get("end_session_endpoint")
    except (requests.RequestException, ValueError, ImproperlyConfigured):
        logger.warning("No discovery document; logging out of Wallbreaker only")
        end_session = None
    if not end_session:
        return reverse("login")
    query = {"client_id": settings.OIDC_RP_CLIENT_ID, "post_logout_redirect_uri": login}
    if request.session.get("oidc_id_token"):
        query["id_token_hint"] = request.session["oidc_id_token"]
    return f"{end_session}?{urlencode(query)}"


def local_login() -> bool:
    """Username and password login: on unless switched off, and never off without SSO (or
    nobody could log in)."""
    return settings.LOCAL_LOGIN or not sso_enabled()


class LoginView(auth_views.LoginView):
    """Django's login page, with the company sign-in button and, unless switched off, the
    local username and password form."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(**kwargs) | {
            "sso_enabled": sso_enabled(),
            "sso_name": settings.OIDC_PROVIDER_NAME,
            "local_login": local_login(),
        }

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not local_login():
            messages.error(request, "Sign in with your company account.")
            return redirect("login")
        return super().post(request, *args, **kwargs)
