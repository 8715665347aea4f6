from django.urls import path

from . import dashboards, process_link, triage, views, weekly_update

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
    path("findings/<int:pk>/link/", triage.finding_link, name="finding_link"),
    path("findings/<int:pk>/no-action/", triage.finding_no_action, name="finding_no_action"),
    path("findings/<int:pk>/reopen/", triage.finding_reopen, name="finding_reopen"),
    path("finding-groups/<int:pk>/promote/", triage.group_promote, name="group_promote"),
    path("finding-groups/<int:pk>/link/", triage.group_link, name="group_link"),
    path("finding-groups/<int:pk>/no-action/", triage.group_no_action, name="group_no_action"),
    path("finding-groups/<int:pk>/reopen/", triage.group_reopen, name="group_reopen"),
    path("improvements/search/", triage.improvement_search, name="improvement_search"),
    path("retros/<int:pk>/carry-over/", triage.carry_over, name="carry_over"),
    path(
        "retros/<int:pk>/carry-over/<int:improvement_pk>/note/",
        triage.carry_over_note,
        name="carry_over_note",
    ),
    path("updates/", weekly_update.weekly_update_now, name="weekly_update_now"),
    path("updates/<str:week>/", weekly_update.weekly_update, name="weekly_update"),
    path("dashboard/", dashboards.dashboard, name="dashboard"),
    path("dashboard/panel/<slug:name>/", dashboards.dashboard_panel, name="dashboard_panel"),
    path("dashboard/<slug:name>.csv", dashboards.dashboard_csv, name="dashboard_csv"),
    path(
        "dashboard/effects/<int:pk>/verdict/",
        dashboards.effect_verdict,
        name="effect_verdict",
    ),
]
