"""Deployments and the documented process they follow: its steps, their history, API tokens."""

import datetime
import hashlib
import secrets
from collections import Counter
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Count, F, Q, Sum
from django.urls import reverse
from django.utils import timezone

from ..weeks import FIRST_YEAR, LAST_YEAR, monday_of, within_app_years
from .teams import DutyWeek, Unit

if TYPE_CHECKING:
    from .runs import DeploymentRun  # runs builds on these models

# How far ahead of now a deployment's times may be: time zones and clocks that run fast.
FUTURE_SLACK = datetime.timedelta(days=1)


class DeploymentQuerySet(models.QuerySet["Deployment"]):
    def stats(self) -> dict[str, Any]:
        return self.aggregate(
            count=Count("id"),
            elapsed_minutes=Sum("elapsed_minutes"),
            hands_on_minutes=Sum("hands_on_minutes"),
            blocked_minutes=Sum("blocked_minutes"),
            restarts=Sum("restarts"),
            manual_steps_done=Sum("manual_steps_done"),
            failed=Count("id", filter=~Q(result=Deployment.Result.SUCCESS)),
        )

    def in_week(self, duty_week: "DutyWeek") -> "DeploymentQuerySet":
        return self.filter(duty_week=duty_week)

    def record_external(
        self,
        external_id: str,
        on_create: dict[str, Any] | None = None,
        *,
        is_stale: Callable[["Deployment"], bool] | None = None,
        **fields: Any,
    ) -> tuple["Deployment", bool]:
        """Create or update the deployment a sender knows as `external_id`; True if created.

        Identical posts may race: the unique index lets one insert win, and the loser updates
        that row instead, so a pipeline id never yields two deployments. `fields` must already
        be valid (see Deployment.full_clean); `on_create` only applies to a new deployment.
        `is_stale(deployment)`, asked under the row lock, may refuse an update that is older
        than what is stored: StaleUpdate is raised and nothing changes.
        """
        with transaction.atomic():
            deployment = self.select_for_update().filter(external_id=external_id).first()
            if deployment is None:
                try:
                    with transaction.atomic():
                        created = Deployment(
                            external_id=external_id, **{**(on_create or {}), **fields}
                        )
                        created.save()
                    return created, True
                except IntegrityError:
                    deployment = self.select_for_update().filter(external_id=external_id).first()
                    if deployment is None:
                        raise
            if is_stale is not None and is_stale(deployment):
                raise StaleUpdate(deployment)
            for name, value in fields.items():
                setattr(deployment, name, value)
            deployment.save()
            return deployment, False


class StaleUpdate(Exception):
    """An update older than what its deployment already records; it changed nothing."""

    def __init__(self, deployment: "Deployment") -> None:
        super().__init__(f"Deployment {deployment.external_id} already has a newer update.")
        self.deployment = deployment


class Deployment(models.Model):
    """One run of the deployment process, entered by hand or sent by CI."""

    class Environment(models.TextChoices):
        STAGING = "staging", "Staging"
        PRODUCTION = "production", "Production"

    class Result(models.TextChoices):
        SUCCESS = "success", "Success"
        FAILURE = "failure", "Failure"
        ABORTED = "aborted", "Aborted"
        ROLLED_BACK = "rolled_back", "Rolled back"

    class Trigger(models.TextChoices):
        MANUAL = "manual", "Manual runbook"
        SCRIPTED = "scripted", "Scripted"
        ONE_BUTTON = "one_button", "One button"
        AUTOMATIC = "automatic", "Automatic"

    duty_week = models.ForeignKey(
        DutyWeek, on_delete=models.SET_NULL, null=True, blank=True, related_name="deployments"
    )
    environment = models.CharField(
        max_length=12, choices=Environment, default=Environment.PRODUCTION
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    # Stored rather than computed per query: dashboards aggregate it over tens of thousands of rows.
    elapsed_minutes = models.PositiveIntegerField(editable=False, default=0)
    hands_on_minutes = models.PositiveIntegerField(default=0)
    deployer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deployments",
    )
    shadow = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="shadowed_deployments",
    )
    result = models.CharField(max_length=12, choices=Result, default=Result.SUCCESS)
    blocked_minutes = models.PositiveIntegerField(default=0)
    blocked_cause = models.CharField(max_length=200, blank=True)
    restarts = models.PositiveIntegerField(default=0)
    manual_steps_done = models.PositiveIntegerField(default=0)
    trigger = models.CharField(max_length=12, choices=Trigger, default=Trigger.MANUAL)
    version = models.CharField(max_length=100, blank=True, help_text="Commit SHA or version.")
    repo_url = models.URLField(max_length=300, blank=True)
    notes = models.TextField(blank=True)
    external_id = models.CharField(
        max_length=200,
        null=True,
        blank=True,
        unique=True,
        help_text="The sender's id (CI pipeline id): sending it again updates this deployment.",
    )
    # The GitHub deployment status last applied (its own time and id, and the delivery that
    # brought it): webhooks arrive late, out of order or replayed, and an older status must
    # never overwrite a newer one.
    github_status_at = models.DateTimeField(null=True, blank=True, editable=False)
    github_status_id = models.BigIntegerField(null=True, blank=True, editable=False)
    github_delivery = models.CharField(max_length=100, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DeploymentQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["started_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(finished_at__gte=F("started_at")),
                name="deployment_finishes_after_start",
                violation_error_message="A deployment cannot finish before it starts.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_environment_display()} {self.started_at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.started_at and self.finished_at:
            # In UTC: Python subtracts two times of one zone by the wall clock, DST or not.
            utc = datetime.UTC
            seconds = (
                self.finished_at.astimezone(utc) - self.started_at.astimezone(utc)
            ).total_seconds()
            self.elapsed_minutes = max(0, round(seconds / 60))
            self.duty_week = DutyWeek.objects.filter(
                week_start=monday_of(timezone.localdate(self.started_at))
            ).first()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("deployments:deployment_detail", args=[self.pk])

    def clean(self) -> None:
        """Refuse times outside the app's years, and times more than a day ahead.

        A deployment is logged once it has run; a day of slack covers time zones and clocks.
        Both forms and the API call this (through full_clean) before anything is written.
        """
        errors = {}
        latest = timezone.now() + FUTURE_SLACK
        # github_status_at orders webhook statuses: one far ahead would make every later
        # status look stale, and one outside the years cannot be stored.
        for name in ("started_at", "finished_at", "github_status_at"):
            moment = getattr(self, name)
            if moment is None:
                continue
            if not within_app_years(moment):
                errors[name] = f"Give a time between {FIRST_YEAR} and {LAST_YEAR}."
            elif moment > latest:
                days = (moment - timezone.now()).days
                errors[name] = (
                    f"That is {days} days from now: log a deployment once it has run "
                    "(check the date)."
                )
        if errors:
            raise ValidationError(errors)


class ManualLeft(NamedTuple):
    """The (partly) manual steps at the end of one week, and the minutes they take."""

    steps: int
    minutes: int
    changes: int  # mode changes recorded during that week


class ProcessStepQuerySet(models.QuerySet):
    def manual_left_by_week(
        self, mondays: "list[datetime.date]"
    ) -> dict[datetime.date, ManualLeft]:
        """Per Monday: the manual steps left when that week ended (midnight before the next
        Monday, local time). The one rule behind "manual steps left" on the process page and
        the dashboards.

        Replays the recorded changes backwards from the steps' current modes: a step's mode
        at a moment is the `old_mode` of its first change after it (its current mode if
        none). Two queries, however long the history. Steps are taken to have existed all
        along with their current minutes (the history records modes, not minutes).
        """
        if not mondays:
            return {}
        tz = timezone.get_current_timezone()

        def end_of(monday: datetime.date) -> datetime.datetime:
            next_monday = monday + datetime.timedelta(weeks=1)
            return datetime.datetime.combine(next_monday, datetime.time.min, tzinfo=tz)

        steps = {
            pk: [mode, minutes] for pk, mode, minutes in self.values_list("pk", "mode", "minutes")
        }
        since = end_of(min(mondays) - datetime.timedelta(weeks=1))
        changes = list(
            ProcessStepChange.objects.filter(step__in=self, changed_at__gte=since)
            .order_by("-changed_at", "-pk")
            .values_list("step_id", "old_mode", "changed_at")
        )
        changes_per_week = Counter(monday_of(timezone.localdate(at)) for _, _, at in changes)
        left, undone = {}, 0
        for monday in sorted(mondays, reverse=True):
            week_end = end_of(monday)
            # Undo every change made after this week ended: what is left is the week's end.
            while undone < len(changes) and changes[undone][2] >= week_end:
                step_id, old_mode, _ = changes[undone]
                steps[step_id][0] = old_mode
                undone += 1
            manual = [minutes for mode, minutes in steps.values() if mode in MANUAL_MODES]
            left[monday] = ManualLeft(len(manual), sum(manual), changes_per_week[monday])
        return left


class ProcessStep(models.Model):
    """One step of the documented deployment process."""

    class Mode(models.TextChoices):
        MANUAL = "manual", "Manual"
        SEMI_AUTOMATIC = "semi", "Semi-automatic"
        AUTOMATED = "automated", "Automated"
        DROPPED = "dropped", "Dropped"

    position = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200)
    how_to = models.TextField(blank=True, help_text="Markdown.")
    mode = models.CharField(max_length=10, choices=Mode, default=Mode.MANUAL)
    minutes = models.PositiveIntegerField(default=0)
    unit = models.ForeignKey(
        Unit, on_delete=models.SET_NULL, null=True, blank=True, related_name="process_steps"
    )

    objects = ProcessStepQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_manual(self) -> bool:
        return self.mode in MANUAL_MODES

    @transaction.atomic
    def change_mode(
        self, mode: str, user: User | None = None, note: str = ""
    ) -> "ProcessStepChange | None":
        if mode == self.mode:
            return None
        change = ProcessStepChange.objects.create(
            step=self, old_mode=self.mode, new_mode=mode, changed_by=user, note=note
        )
        self.mode = mode
        self.save(update_fields=["mode"])
        return change


# What "manual" means wherever steps are counted: semi-automatic steps still need hands.
MANUAL_MODES = (ProcessStep.Mode.MANUAL, ProcessStep.Mode.SEMI_AUTOMATIC)


class ProcessStepChange(models.Model):
    """A change of a step's mode, so "manual steps left" can be drawn over time."""

    step = models.ForeignKey(ProcessStep, on_delete=models.CASCADE, related_name="changes")
    old_mode = models.CharField(max_length=10, choices=ProcessStep.Mode)
    new_mode = models.CharField(max_length=10, choices=ProcessStep.Mode)
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.step}: {self.old_mode} → {self.new_mode}"


class ProcessStepRevision(models.Model):
    """One edit of a step's how-to, kept so the step page shows who improved it and when."""

    step = models.ForeignKey(ProcessStep, on_delete=models.CASCADE, related_name="revisions")
    how_to = models.TextField(blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    at = models.DateTimeField(default=timezone.now)
    run = models.ForeignKey(
        "DeploymentRun",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="how_to_revisions",
        help_text="The run during which it was edited, if any.",
    )

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"How-to of {self.step} at {self.at:%Y-%m-%d %H:%M}"


def revise_how_to(
    step: ProcessStep, how_to: str, author: User, run: "DeploymentRun | None" = None
) -> "ProcessStepRevision | None":
    """Change a step's how-to and keep the new text as a revision; None if nothing changed."""
    if how_to == step.how_to:
        return None
    with transaction.atomic():
        step.how_to = how_to
        step.save(update_fields=["how_to"])
        return ProcessStepRevision.objects.create(step=step, how_to=how_to, author=author, run=run)


class ApiToken(models.Model):
    """A token for CI and other machines; only its SHA-256 is stored.

    Its scopes (space-separated, as OAuth writes them) say which endpoints it may call; a
    card write acts as the token's user, with that user's rights on the board.
    """

    class Scope(models.TextChoices):
        DEPLOYMENTS_WRITE = "deployments:write", "deployments:write (record and read deployments)"
        CARDS_READ = "cards:read", "cards:read (read the board's cards)"
        CARDS_WRITE = "cards:write", "cards:write (create, edit, move and comment on cards)"

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    scopes = models.CharField(max_length=200, blank=True, help_text="Space-separated scopes.")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    def has_scope(self, scope: str) -> bool:
        return scope in self.scope_list

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(
        cls, name: str, user: User | None = None, scopes: Iterable[str] = (Scope.DEPLOYMENTS_WRITE,)
    ) -> tuple["ApiToken", str]:
        """Create a token and return it with its key, which is never stored or shown again."""
        key = "wb_" + secrets.token_urlsafe(32)
        token = cls.objects.create(
            name=name,
            user=user,
            prefix=key[:10],
            key_hash=cls.hash(key),
            scopes=" ".join(str(scope) for scope in scopes),
        )
        return token, key

    @classmethod
    def authenticate(cls, key: str) -> "ApiToken | None":
        token = cls.objects.filter(key_hash=cls.hash(key), revoked_at__isnull=True).first()
        if token:
            cls.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        return token
