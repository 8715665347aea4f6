"""Messages to the outside: chat webhooks, outgoing webhooks and the outbox that delivers them."""

import uuid

from django.conf import settings
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .teams import Unit

# Messages to the company's chat and to other systems. An OutboxMessage is written in the same
# transaction as the change it reports; the deliver_outbox worker fans it out to the targets
# configured when it runs (one Delivery each) and posts those with retries. See retros/outbox.py.


class ChatWebhook(models.Model):
    """An incoming-webhook URL of a chat channel: a unit's, or the organisation's (no unit)."""

    # Not stored: set by retros.integrations for the channels page.
    can_change: bool

    class Kind(models.TextChoices):
        SLACK = "slack", "Slack-compatible (Slack, Mattermost, Rocket.Chat)"
        TEAMS = "teams", "Microsoft Teams (Workflows webhook)"

    unit = models.ForeignKey(
        Unit,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="chat_webhooks",
        help_text="Empty for the organisation-wide channel, which gets every unit's messages.",
    )
    kind = models.CharField(max_length=10, choices=Kind, default=Kind.SLACK)
    url = models.URLField(
        max_length=1000,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="The channel's incoming-webhook URL.",
    )
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["unit__name", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.unit or 'the organisation'}"

    @property
    def masked_url(self) -> str:
        """The URL without its secret path: enough to recognise it, not to post to it."""
        from urllib.parse import urlsplit

        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}/…{self.url[-4:]}"


class OutgoingWebhook(models.Model):
    """Another system that gets card events as signed JSON; set up by staff in the admin."""

    class Topic(models.TextChoices):
        CARD_CREATED = "card.created", "Card created"
        CARD_MOVED = "card.moved", "Card moved"
        CARD_DONE = "card.done", "Card done"
        CARD_VERDICT = "card.verdict", "Effect verdict set"

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=1000, validators=[URLValidator(schemes=["http", "https"])])
    topics = models.CharField(
        max_length=200,
        default=" ".join(Topic.values),
        help_text="Space-separated: " + ", ".join(Topic.values),
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class OutboxMessage(models.Model):
    """Something worth telling, stored with the change that caused it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    topic = models.CharField(max_length=40)
    unit = models.ForeignKey(Unit, on_delete=models.SET_NULL, null=True, blank=True)
    text = models.TextField(help_text="The chat line, plain text.")
    link = models.URLField(max_length=1000, blank=True, help_text="The page it is about.")
    data = models.JSONField(default=dict, blank=True, help_text="The outgoing webhook's data.")
    # One per reason at most (a week's handover, a week's reminder): a second cron run or a
    # retried task writes nothing new.
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    fanned_out_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(fanned_out_at__isnull=True),
                name="outbox_message_waiting",
            )
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.id}"


class Delivery(models.Model):
    """One message to one target, tried until it is answered with 2xx."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="deliveries")
    chat_webhook = models.ForeignKey(ChatWebhook, on_delete=models.CASCADE, null=True, blank=True)
    outgoing_webhook = models.ForeignKey(
        OutgoingWebhook, on_delete=models.CASCADE, null=True, blank=True
    )
    url = models.URLField(max_length=1000)
    body = models.TextField(help_text="Exactly what is posted, the same on every attempt.")
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # A worker holds a claimed delivery until then; one that dies lets it go when it passes.
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    gave_up_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["next_attempt_at"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(sent_at__isnull=True, gave_up_at__isnull=True),
                name="delivery_due",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(chat_webhook__isnull=True) | Q(outgoing_webhook__isnull=True),
                name="delivery_has_one_target",
            )
        ]

    def __str__(self) -> str:
        return f"{self.message.topic} → {self.url[:40]}"
