"""Top-level URLs: wires the two apps, auth and the admin together."""

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.generic import RedirectView

from improvements.api import router as card_api
from retros.api import api, machine_urls

from . import sso
from .auth import ThrottledPasswordResetView
from .health import healthz

# The card endpoints join the deployments API (retros must not import improvements).
api.add_router("", card_api)

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="board:board", permanent=False), name="home"),
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", login_not_required(sso.LoginView.as_view()), name="login"),
    path(
        "accounts/password_reset/",
        ThrottledPasswordResetView.as_view(),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    # The way in through the company's provider (config/sso.py); 404 until it is configured.
    path(
        "oidc/authenticate/",
        login_not_required(sso.SignInView.as_view()),
        name="oidc_authentication_init",
    ),
    path(
        "oidc/callback/",
        login_not_required(sso.CallbackView.as_view()),
        name="oidc_authentication_callback",
    ),
    path("oidc/logout/", sso.LogoutView.as_view(), name="oidc_logout"),
    path("admin/", admin.site.urls),
    path("api/", machine_urls()),
    path("", include("retros.urls.retros")),
    path("", include("retros.urls.teams")),
    path("", include("retros.urls.deployments")),
    path("", include("retros.urls.runs")),
    path("", include("retros.urls.integrations")),
    path("", include("improvements.urls.board")),
    path("", include("improvements.urls.process_link")),
    path("", include("improvements.urls.triage")),
    path("", include("improvements.urls.reporting")),
]

handler500 = "config.health.server_error"
