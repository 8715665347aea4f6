"""URLs of the deployment log and the documented deployment process (the process map)."""

from django.urls import path

from ..views import deployments

app_name = "deployments"

urlpatterns = [
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
