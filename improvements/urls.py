from django.urls import path

from . import dashboards, process_link, triage, views

urlpatterns = [
    path("board/", views.board, name="board"),
    path("board/categories.css", views.category_css, name="category_css"),
    path("board/cards/<int:pk>/move/", views.card_move, name="card_move"),
    path("improvements/<int:pk>/", views.improvement_detail, name="improvement_detail"),
    path(
        "improvements/<int:pk>/step-offer/", process_link.step_offer, name="improvement_step_offer"
    ),
    path(
        "improvements/<int:pk>/step-change/",
        process_link.step_change,
        name="improvement_step_change",
    ),
    path("process/pending/", process_link.pending_step_changes, name="pending_step_changes"),
    path("retros/<int:pk>/triage/", triage.retro_triage, name="retro_triage"),
    path("findings/<int:pk>/promote/", triage.finding_promote, name="finding_promote"),
    path("dashboard/", dashboards.dashboard, name="dashboard"),
    path("dashboard/panel/<slug:name>/", dashboards.dashboard_panel, name="dashboard_panel"),
    path("dashboard/<slug:name>.csv", dashboards.dashboard_csv, name="dashboard_csv"),
    path(
        "dashboard/effects/<int:pk>/verdict/",
        dashboards.effect_verdict,
        name="effect_verdict",
    ),
]
