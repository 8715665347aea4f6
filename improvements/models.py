"""The improvement board: categories, columns, cards, their history and comments."""

from django.conf import settings
from django.db import models, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from retros.models import Finding, ProcessStep, ProcessStepChange, Unit

# Cards are spaced this far apart so a move usually writes one row: the moved card.
POSITION_GAP = 1024


class MoveError(ValueError):
    """A card move that cannot be done as asked; the message says why."""


class Category(models.Model):
    name = models.CharField(max_length=60, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    colour = models.CharField(max_length=7, default="#6b7280", help_text="A hex colour, #rrggbb.")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"
        constraints = [
            models.CheckConstraint(
                condition=Q(colour__regex=r"^#[0-9a-fA-F]{6}$"),
                name="category_colour_is_hex",
                violation_error_message="Colour must look like #1a2b3c.",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Column(models.Model):
    class State(models.TextChoices):
        BACKLOG = "backlog", "Backlog"
        ACTIVE = "active", "Active"
        DONE = "done", "Done"
        DROPPED = "dropped", "Dropped"

    name = models.CharField(max_length=60)
    position = models.PositiveIntegerField(unique=True)
    state = models.CharField(max_length=10, choices=State, default=State.BACKLOG)
    wip_limit = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.DROPPED)


class ImprovementQuerySet(models.QuerySet):
    def open(self) -> "ImprovementQuerySet":
        return self.filter(archived_at__isnull=True)

    def with_recurrence(self) -> "ImprovementQuerySet":
        return self.annotate(
            recurrence=Count("finding_links__finding__retro", distinct=True),
        )


class Improvement(models.Model):
    class Verdict(models.TextChoices):
        PENDING = "pending", "Pending"
        CONFIRMED = "confirmed", "Confirmed"
        NO_EFFECT = "no_effect", "No effect"
        REGRESSED = "regressed", "Regressed"

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="Markdown.")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="improvements")
    column = models.ForeignKey(Column, on_delete=models.PROTECT, related_name="improvements")
    position = models.IntegerField()
    unit = models.ForeignKey(
        Unit,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="improvements",
        verbose_name="owning unit",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_improvements",
    )
    target_step = models.ForeignKey(
        ProcessStep,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="improvements",
        verbose_name="targets process step",
    )
    expected_effect = models.CharField(max_length=200, blank=True)
    external_link = models.URLField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="created_improvements",
    )
    created_at = models.DateTimeField(default=timezone.now)
    column_entered_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    dropped_reason = models.CharField(max_length=300, blank=True)
    effect_verdict = models.CharField(max_length=10, choices=Verdict, default=Verdict.PENDING)

    objects = ImprovementQuerySet.as_manager()

    class Meta:
        ordering = ["column__position", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["column", "position"],
                name="improvement_position_unique_per_column",
                deferrable=models.Deferrable.DEFERRED,
            ),
        ]
        indexes = [models.Index(fields=["done_at"]), models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("improvement_detail", args=[self.pk])

    @property
    def recurrence_count(self) -> int:
        if hasattr(self, "recurrence"):
            return self.recurrence
        return self.finding_links.values("finding__retro").distinct().count()

    @property
    def days_in_column(self) -> int:
        return (timezone.now() - self.column_entered_at).days

    @transaction.atomic
    def move_to(self, column: Column, after: "Improvement | None" = None, actor=None) -> set[int]:
        """Put this card in `column` right after `after` (at the top when None).

        Naming the neighbour instead of an index keeps a move right on a filtered or stale
        board. Both affected columns are locked for the transaction, so concurrent moves
        queue up instead of interleaving. Returns the ids of the columns that changed.
        """
        source_id = self.column_id
        column_ids = sorted({source_id, column.pk})
        list(Column.objects.select_for_update().filter(pk__in=column_ids).order_by("pk"))

        siblings = Improvement.objects.filter(column=column).exclude(pk=self.pk)
        if after is None:
            lower = None
            upper = siblings.order_by("position").values_list("position", flat=True).first()
        else:
            lower = siblings.filter(pk=after.pk).values_list("position", flat=True).first()
            if lower is None:
                raise MoveError("The card to land after is no longer in that column.")
            upper = (
                siblings.filter(position__gt=lower)
                .order_by("position")
                .values_list("position", flat=True)
                .first()
            )
        position = self._position_between(lower, upper)
        if position is None:
            # No room between the neighbours: respace this one column and try again.
            self._respace(column)
            return self.move_to(column, after=after, actor=actor) | set(column_ids)

        now = timezone.now()
        fields = ["column", "position"]
        moved_column = column.pk != source_id
        self.column, self.position = column, position
        if moved_column:
            self.column_entered_at = now
            fields.append("column_entered_at")
            if column.state != Column.State.BACKLOG and self.started_at is None:
                self.started_at = now
                fields.append("started_at")
            if column.is_finished and self.done_at is None:
                self.done_at = now
                fields.append("done_at")
            elif not column.is_finished and self.done_at is not None:
                self.done_at = None
                fields.append("done_at")
        self.save(update_fields=fields)
        Event.objects.create(
            improvement=self,
            kind=Event.Kind.MOVED,
            actor=actor,
            from_column_id=source_id,
            to_column=column,
        )
        return set(column_ids)

    @staticmethod
    def _position_between(lower: int | None, upper: int | None) -> int | None:
        if lower is None and upper is None:
            return POSITION_GAP
        if lower is None:
            return upper - POSITION_GAP
        if upper is None:
            return lower + POSITION_GAP
        if upper - lower < 2:
            return None
        return (lower + upper) // 2

    @staticmethod
    def _respace(column: Column) -> None:
        cards = Improvement.objects.filter(column=column)
        ids = list(cards.order_by("position", "pk").values_list("pk", flat=True))
        lowest = cards.aggregate(lowest=models.Min("position"))["lowest"] or 0
        # SQLite checks uniqueness row by row, so park every card below the lowest position
        # first, then flip them all to their new, evenly spaced places in one statement.
        offset = min(lowest, 0) - 1
        for index, pk in enumerate(ids, start=1):
            Improvement.objects.filter(pk=pk).update(position=offset - index * POSITION_GAP)
        cards.update(position=offset - models.F("position"))

    @classmethod
    def next_position(cls, column: Column) -> int:
        last = (
            cls.objects.filter(column=column)
            .order_by("-position")
            .values_list("position", flat=True)
            .first()
        )
        return (last or 0) + POSITION_GAP


class Event(models.Model):
    """Every change of a card, with who and when: flow metrics are computed from these."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        MOVED = "moved", "Moved"
        EDITED = "edited", "Edited"
        COMMENTED = "commented", "Commented"
        LINKED = "linked", "Linked a finding"
        ARCHIVED = "archived", "Archived"
        UNARCHIVED = "unarchived", "Unarchived"
        DROPPED = "dropped", "Dropped"
        STEP_CHANGED = "step_changed", "Changed a process step"
        VERDICT = "verdict", "Effect verdict"

    improvement = models.ForeignKey(Improvement, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=14, choices=Kind)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    at = models.DateTimeField(default=timezone.now)
    from_column = models.ForeignKey(
        Column, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    to_column = models.ForeignKey(
        Column, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
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
    improvement = models.ForeignKey(Improvement, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    body = models.TextField(max_length=5000, help_text="Markdown.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Comment on #{self.improvement_id}"


class FindingLink(models.Model):
    """A retro finding that raised (or joined) an improvement. A finding joins at most one."""

    finding = models.OneToOneField(Finding, on_delete=models.CASCADE, related_name="link")
    improvement = models.ForeignKey(
        Improvement, on_delete=models.CASCADE, related_name="finding_links"
    )
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["linked_at", "id"]

    def __str__(self) -> str:
        return f"Finding #{self.finding_id} → improvement #{self.improvement_id}"
