from django.urls import path

from . import dashboards, triage, views

urlpatterns = [
    path("board/", views.board, name="board"),
    path("board/categories.css", views.category_css, name="category_css"),
    path("board/columns/", views.column_settings, name="column_settings"),
    path("board/columns/<int:pk>/add/", views.column_add_card, name="column_add_card"),
    path("board/cards/<int:pk>/move/", views.card_move, name="card_move"),
    path("improvements/<int:pk>/", views.improvement_detail, name="improvement_detail"),
    path("improvements/<int:pk>/edit/", views.improvement_edit, name="improvement_edit"),
    path("improvements/<int:pk>/comment/", views.improvement_comment, name="improvement_comment"),
    path("improvements/<int:pk>/archive/", views.improvement_archive, name="improvement_archive"),
    path("improvements/<int:pk>/drop/", views.improvement_drop, name="improvement_drop"),
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
