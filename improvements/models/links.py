"""Links from retro findings to the improvements they raised, and the event an unlink leaves."""

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone

from retros.models import Finding


class FindingLink(models.Model):
    """A retro finding that raised (or joined) an improvement. A finding joins at most one."""

    # Not stored: who took the link away, for the event record_unlink writes.
    unlinked_by: User | None

    finding = models.OneToOneField(Finding, on_delete=models.CASCADE, related_name="link")
    improvement = models.ForeignKey(
        "Improvement", on_delete=models.CASCADE, related_name="finding_links"
    )
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["linked_at", "id"]

    def __str__(self) -> str:
        return f"Finding #{self.finding_id} → improvement #{self.improvement_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """A linked finding is triaged, however the link was made (triage, admin, shell): the
        one place a link writes its finding's outcome."""
        with transaction.atomic():
            super().save(*args, **kwargs)
            self.finding.set_outcome(Finding.Outcome.IMPROVEMENT)


@receiver(post_delete, sender=FindingLink)
def record_unlink(sender: type[FindingLink], instance: FindingLink, **kwargs: Any) -> None:
    """Every link that goes leaves an event on its card, however it went (an undone triage,
    the admin, a deleted retro), so the card's history and its recurrence agree. A card
    deleted with its links takes its history with it."""
    origin = kwargs.get("origin")
    origin_model = origin.model if isinstance(origin, models.QuerySet) else type(origin)
    # Imported here: board.py imports this module.
    from .board import Improvement

    if origin_model is Improvement:
        return
    retro_id = (
        Finding.objects.filter(pk=instance.finding_id).values_list("retro_id", flat=True).first()
    )
    Improvement.record_unlinked(
        instance.improvement_id,
        instance.finding_id,
        retro_id,
        actor=getattr(instance, "unlinked_by", None),
    )
