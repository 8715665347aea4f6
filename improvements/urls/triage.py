"""Retro triage's URLs: a retro's findings into cards, the card search and the carry-over."""

from django.urls import path

from ..views import triage

app_name = "triage"

urlpatterns = [
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
]
