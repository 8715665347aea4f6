"""The reports' URLs: the weekly update and the dashboard with its panels, CSVs and verdicts."""

from django.urls import path

from ..views import reporting

app_name = "reporting"

urlpatterns = [
    path("updates/", reporting.weekly_update_now, name="weekly_update_now"),
    path("updates/<str:week>/", reporting.weekly_update, name="weekly_update"),
    path("dashboard/", reporting.dashboard, name="dashboard"),
    path("dashboard/panel/<slug:name>/", reporting.dashboard_panel, name="dashboard_panel"),
    path("dashboard/<slug:name>.csv", reporting.dashboard_csv, name="dashboard_csv"),
    path(
        "dashboard/effects/<int:pk>/verdict/",
        reporting.effect_verdict,
        name="effect_verdict",
    ),
]
