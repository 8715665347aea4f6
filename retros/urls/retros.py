"""URLs of the weekly retros: history, the retro form and findings, and the retro as a meeting."""

from django.urls import path

from ..views import meeting, retros

app_name = "retros"

urlpatterns = [
    path("retros/", retros.retro_list, name="retro_list"),
    path("retros/start/", retros.retro_start, name="retro_start"),
    path("retros/<int:pk>/", retros.retro_detail, name="retro_detail"),
    path("retros/<int:pk>/findings/", retros.finding_add, name="finding_add"),
    path("retros/<int:pk>/submit/", retros.retro_submit, name="retro_submit"),
    path("retros/<int:pk>/findings/list/", retros.finding_list, name="finding_list"),
    path("retros/<int:pk>/markdown/", retros.retro_markdown, name="retro_markdown"),
    path("findings/<int:pk>/edit/", retros.finding_edit, name="finding_edit"),
    path("findings/<int:pk>/delete/", retros.finding_delete, name="finding_delete"),
    path("retros/<int:pk>/phase/", meeting.retro_phase, name="retro_phase"),
    path("retros/<int:pk>/privacy/", meeting.retro_privacy, name="retro_privacy"),
    path("retros/<int:pk>/votes/budget/", meeting.retro_vote_budget, name="retro_vote_budget"),
    path("retros/<int:pk>/votes/", meeting.retro_vote, name="retro_vote"),
    path("retros/<int:pk>/groups/", meeting.finding_group, name="finding_group"),
    path("findings/<int:pk>/ungroup/", meeting.finding_ungroup, name="finding_ungroup"),
    path("finding-groups/<int:pk>/rename/", meeting.group_rename, name="group_rename"),
]
