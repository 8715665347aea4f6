"""URLs of deployment runs: starting one, its steps, its live view and its end."""

from django.urls import path

from ..views import runs

app_name = "runs"

urlpatterns = [
    path("runs/", runs.run_list, name="run_list"),
    path("runs/start/", runs.run_start, name="run_start"),
    path("runs/<int:pk>/", runs.run_detail, name="run_detail"),
    path("runs/<int:pk>/live/", runs.run_live, name="run_live"),
    path("runs/<int:pk>/restart/", runs.run_restart, name="run_restart"),
    path("runs/<int:pk>/abort/", runs.run_abort, name="run_abort"),
    path("runs/<int:pk>/finish/", runs.run_finish, name="run_finish"),
    path("runs/<int:pk>/notes/", runs.run_note, name="run_note"),
    path("runs/steps/<int:pk>/act/", runs.step_act, name="run_step_act"),
    path("runs/steps/<int:pk>/how-to/", runs.step_how_to, name="run_step_how_to"),
]
