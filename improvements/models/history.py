"""A card's history: the events every change leaves (flow metrics read these) and comments."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from retros.models import ProcessStepChange


class Event(models.Model):
    """Every change of a card, with who and when: flow metrics are computed from these."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        MOVED = "moved", "Moved"
        EDITED = "edited", "Edited"
        COMMENTED = "commented", "Commented"
        LINKED = "linked", "Linked a finding"
        UNLINKED = "unlinked", "Unlinked a finding"
        REOPENED = "reopened", "Reopened"
        ARCHIVED = "archived", "Archived"
        UNARCHIVED = "unarchived", "Unarchived"
        DROPPED = "dropped", "Dropped"
        STEP_CHANGED = "step_changed", "Changed a process step"
        VERDICT = "verdict", "Effect verdict"

    improvement = models.ForeignKey("Improvement", on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=14, choices=Kind)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    at = models.DateTimeField(default=timezone.now)
    from_column = models.ForeignKey(
        "Column", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    to_column = models.ForeignKey(
        "Column", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    step_change = models.ForeignKey(
        ProcessStepChange, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["at"]),
            models.Index(fields=["improvement", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.improvement_id} at {self.at:%Y-%m-%d %H:%M}"


class Comment(models.Model):
    improvement = models.ForeignKey(
        "Improvement", on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    body = models.TextField(max_length=5000, help_text="Markdown.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Comment on #{self.improvement_id}"
