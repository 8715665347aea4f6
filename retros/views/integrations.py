"""Views for chat notifications: the channels (incoming webhooks) per unit and organisation."""

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from .. import outbox
from ..http import HtmxHttpRequest
from ..models import ChatWebhook, Delivery, OutboxMessage, OutgoingWebhook, Unit
from ..permissions import can_manage_chat, can_manage_rotation, chat_units_for


class ChatWebhookForm(forms.ModelForm):
    url = forms.URLField(
        label="Incoming-webhook URL",
        max_length=1000,
        validators=[URLValidator(schemes=["http", "https"])],
        assume_scheme="https",
        help_text="From the channel's settings: Slack “Incoming Webhooks”, Mattermost or "
        "Rocket.Chat “Incoming webhook”, Teams “Workflows → Post to a channel when a webhook "
        "request is received”.",
    )

    class Meta:
        model = ChatWebhook
        fields = ["unit", "kind", "url"]
        labels = {"unit": "Channel of", "kind": "Chat tool"}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        unit = self.fields["unit"]
        assert isinstance(unit, forms.ModelChoiceField)  # a foreign key's field
        unit.queryset = chat_units_for(user)
        unit.required = False
        unit.empty_label = (
            "The whole organisation" if can_manage_rotation(user) else "Choose your unit"
        )

    def clean_unit(self) -> Unit | None:
        unit = self.cleaned_data.get("unit")
        if not can_manage_chat(self.user, unit):
            raise forms.ValidationError("Only staff and the platform team set up these channels.")
        return unit


def _page(request: HtmxHttpRequest, form: ChatWebhookForm | None = None) -> HttpResponse:
    webhooks = list(ChatWebhook.objects.select_related("unit"))
    for webhook in webhooks:
        webhook.can_change = can_manage_chat(request.user, webhook.unit)
    context: dict[str, Any] = {
        "webhooks": webhooks,
        "form": form or ChatWebhookForm(user=request.user),
        "can_add": can_manage_rotation(request.user) or chat_units_for(request.user).exists(),
        "outgoing": list(OutgoingWebhook.objects.all()) if request.user.is_staff else [],
    }
    if request.user.is_staff:
        context["health"] = Delivery.objects.aggregate(
            waiting=Count("pk", filter=Q(sent_at__isnull=True, gave_up_at__isnull=True)),
            retrying=Count(
                "pk", filter=Q(sent_at__isnull=True, gave_up_at__isnull=True, attempts__gt=0)
            ),
            given_up=Count("pk", filter=Q(gave_up_at__isnull=False)),
        )
        context["health"]["unsent"] = OutboxMessage.objects.filter(
            fanned_out_at__isnull=True
        ).count()
    return render(request, "retros/chat_webhooks.html", context, status=400 if form else 200)


@require_safe
def chat_webhooks(request: HtmxHttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
def chat_webhook_add(request: HtmxHttpRequest) -> HttpResponse:
    if not (can_manage_rotation(request.user) or chat_units_for(request.user).exists()):
        raise PermissionDenied("Members of a unit set up their unit's chat channels.")
    form = ChatWebhookForm(request.POST, user=request.user)
    if not form.is_valid():
        return _page(request, form)
    webhook = form.save(commit=False)
    webhook.created_by = request.user
    webhook.save()
    messages.success(request, f"Added: {webhook}. Send a test message to check it.")
    return redirect("integrations:chat_webhooks")


def _get_for_change(request: HtmxHttpRequest, pk: int) -> ChatWebhook:
    webhook = get_object_or_404(ChatWebhook.objects.select_related("unit"), pk=pk)
    if not can_manage_chat(request.user, webhook.unit):
        raise PermissionDenied("You may not change this unit's chat channels.")
    return webhook


@require_POST
def chat_webhook_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    webhook = _get_for_change(request, pk)
    webhook.delete()
    messages.success(request, f"Removed: {webhook}.")
    return redirect("integrations:chat_webhooks")


@require_POST
def chat_webhook_test(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Queue a test message to this one channel; the worker sends it within seconds."""
    webhook = _get_for_change(request, pk)
    text = f"Test message from Wallbreaker, sent by {request.user.get_username()}."
    link = outbox.absolute("/integrations/chat/")
    make = outbox.teams_body if webhook.kind == ChatWebhook.Kind.TEAMS else outbox.slack_body
    with transaction.atomic():
        message = OutboxMessage.objects.create(
            topic="chat.test", text=text, link=link, fanned_out_at=timezone.now()
        )
        Delivery.objects.create(
            message=message,
            chat_webhook=webhook,
            url=webhook.url,
            body=json.dumps(make(text, link)),
        )
    messages.success(request, "Test message queued: it should appear in the channel shortly.")
    return redirect("integrations:chat_webhooks")
