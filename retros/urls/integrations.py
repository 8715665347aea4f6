"""URLs of the integrations: the chat channels that notifications go to."""

from django.urls import path

from ..views import integrations

app_name = "integrations"

urlpatterns = [
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
