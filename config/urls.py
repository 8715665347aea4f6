"""Top-level URLs: wires the two apps, auth and the admin together."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from retros.api import urls as api_urls

from .auth import ThrottledPasswordResetView
from .health import healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="board", permanent=False), name="home"),
    path("healthz", healthz, name="healthz"),
    path(
        "accounts/password_reset/",
        ThrottledPasswordResetView.as_view(),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/", api_urls),
    path("", include("retros.urls")),
    path("", include("improvements.urls")),
]

handler500 = "config.health.server_error"
