"""Top-level URLs: wires the two apps, auth and the admin together."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from improvements.api import router as card_api
from retros.api import api, machine_urls

from .health import healthz

# The card endpoints join the deployments API (retros must not import improvements).
api.add_router("", card_api)

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="board", permanent=False), name="home"),
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/", machine_urls()),
    path("", include("retros.urls")),
    path("", include("improvements.urls")),
]

handler500 = "config.health.server_error"
