from django.urls import path

from . import deployments, feeds, integrations, units, views

urlpatterns = [
    path("retros/", views.retro_list, name="retro_list"),
    path("retros/start/", views.retro_start, name="retro_start"),
    path("retros/<int:pk>/", views.retro_detail, name="retro_detail"),
    path("retros/<int:pk>/findings/", views.finding_add, name="finding_add"),
    path("retros/<int:pk>/submit/", views.retro_submit, name="retro_submit"),
    path("retros/<int:pk>/findings/list/", views.finding_list, name="finding_list"),
    path("retros/<int:pk>/markdown/", views.retro_markdown, name="retro_markdown"),
    path("findings/<int:pk>/edit/", views.finding_edit, name="finding_edit"),
    path("findings/<int:pk>/delete/", views.finding_delete, name="finding_delete"),
    path("units/", units.unit_list, name="unit_list"),
    path("units/new/", units.unit_create, name="unit_create"),
    path("units/<int:pk>/", units.unit_detail, name="unit_detail"),
    path("units/<int:pk>/edit/", units.unit_edit, name="unit_edit"),
    path("units/<int:pk>/members/", units.unit_member_add, name="unit_member_add"),
    path(
        "units/<int:pk>/members/<int:user_pk>/remove/",
        units.unit_member_remove,
        name="unit_member_remove",
    ),
    path("units/<int:pk>/feed/renew/", units.unit_feed_regenerate, name="unit_feed_regenerate"),
    path("rotation/", units.rotation_page, name="rotation"),
    path("rotation/generate/", units.rotation_generate, name="rotation_generate"),
    path("rotation/swap/", units.rotation_swap, name="rotation_swap"),
    path("rotation/weeks/<int:pk>/", units.duty_week_edit, name="duty_week_edit"),
    path("rotation/feed/renew/", units.person_feed_regenerate, name="person_feed_regenerate"),
    path("feeds/units/<str:token>.ics", feeds.unit_feed, name="unit_feed"),
    path("feeds/people/<str:token>.ics", feeds.person_feed, name="person_feed"),
    path("deployments/", deployments.deployment_list, name="deployment_list"),
    path("deployments/export.csv", deployments.deployment_csv, name="deployment_csv"),
    path("deployments/new/", deployments.deployment_create, name="deployment_create"),
    path("deployments/<int:pk>/", deployments.deployment_detail, name="deployment_detail"),
    path("deployments/<int:pk>/edit/", deployments.deployment_edit, name="deployment_edit"),
    path("process/", deployments.process_map, name="process_map"),
    path("process/steps/new/", deployments.process_step_create, name="process_step_create"),
    path("process/steps/<int:pk>/edit/", deployments.process_step_edit, name="process_step_edit"),
    path("process/steps/<int:pk>/move/", deployments.process_step_move, name="process_step_move"),
    path("integrations/chat/", integrations.chat_webhooks, name="chat_webhooks"),
    path("integrations/chat/new/", integrations.chat_webhook_add, name="chat_webhook_add"),
    path(
        "integrations/chat/<int:pk>/delete/",
        integrations.chat_webhook_delete,
        name="chat_webhook_delete",
    ),
    path(
        "integrations/chat/<int:pk>/test/", integrations.chat_webhook_test, name="chat_webhook_test"
    ),
]
