"""URLs that link a finished card to the process step it targeted."""

from django.urls import path

from ..views import process_link

app_name = "process_link"

urlpatterns = [
    path(
        "improvements/<int:pk>/step-offer/", process_link.step_offer, name="improvement_step_offer"
    ),
    path(
        "improvements/<int:pk>/step-change/",
        process_link.step_change,
        name="improvement_step_change",
    ),
    path("process/pending/", process_link.pending_step_changes, name="pending_step_changes"),
]
