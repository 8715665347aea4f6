from django.urls import path

from . import deployments, views

urlpatterns = [
    path("retros/", views.retro_list, name="retro_list"),
    path("retros/start/", views.retro_start, name="retro_start"),
    path("retros/<int:pk>/", views.retro_detail, name="retro_detail"),
    path("retros/<int:pk>/findings/", views.finding_add, name="finding_add"),
    path("retros/<int:pk>/submit/", views.retro_submit, name="retro_submit"),
    path("findings/<int:pk>/delete/", views.finding_delete, name="finding_delete"),
    path("deployments/", deployments.deployment_list, name="deployment_list"),
    path("deployments/export.csv", deployments.deployment_csv, name="deployment_csv"),
    path("deployments/new/", deployments.deployment_create, name="deployment_create"),
    path("deployments/<int:pk>/", deployments.deployment_detail, name="deployment_detail"),
    path("deployments/<int:pk>/edit/", deployments.deployment_edit, name="deployment_edit"),
    path("process/", deployments.process_map, name="process_map"),
    path("process/steps/new/", deployments.process_step_create, name="process_step_create"),
    path("process/steps/<int:pk>/edit/", deployments.process_step_edit, name="process_step_edit"),
    path("process/steps/<int:pk>/move/", deployments.process_step_move, name="process_step_move"),
]
