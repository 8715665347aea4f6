"""The weekly deployment duty: units, duty weeks, deployments, the process map and retros."""

import datetime
import hashlib
import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, models, transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.signals import m2m_changed, pre_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone

from .weeks import FIRST_YEAR, LAST_YEAR, week_label, within_app_years

# How far ahead of now a deployment's times may be: time zones and clocks that run fast.
FUTURE_SLACK = datetime.timedelta(days=1)


def monday_of(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def new_feed_token() -> str:
    return secrets.token_urlsafe(24)


class Unit(models.Model):
    class Kind(models.TextChoices):
        PRODUCT = "product", "Product unit"
        QA = "qa", "QA"
        PLATFORM = "platform", "Platform"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=Kind, default=Kind.PRODUCT)
    is_active = models.BooleanField(default=True, help_text="Inactive units leave the rotation.")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="units")
    feed_token = models.CharField(
        max_length=64, unique=True, default=new_feed_token, editable=False
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("unit_detail", args=[self.pk])

    def regenerate_feed_token(self) -> None:
        """A new secret feed URL; the old one stops working at once."""
        self.feed_token = new_feed_token()
        self.save(update_fields=["feed_token"])


class PersonFeed(models.Model):
    """A person's secret calendar feed of their duty weeks (calendar apps cannot log in)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="duty_feed"
    )
    token = models.CharField(max_length=64, unique=True, default=new_feed_token, editable=False)

    def __str__(self) -> str:
        return f"Duty feed of {self.user}"

    @classmethod
    def for_user(cls, user) -> "PersonFeed":
        return cls.objects.get_or_create(user=user)[0]

    def regenerate(self) -> None:
        self.token = new_feed_token()
        self.save(update_fields=["token"])


class DutyWeekQuerySet(models.QuerySet):
    def current(self) -> "DutyWeek | None":
        return self.filter(week_start=monday_of(timezone.localdate())).first()

    def involving(self, user) -> "DutyWeekQuerySet":
        return self.filter(
            Q(unit__members=user) | Q(qa_person=user) | Q(platform_person=user)
        ).distinct()

    def link_deployments(self) -> int:
        """Point every deployment that started in one of these weeks at its week.

        A deployment is linked to its duty week when it is saved, so one logged before its
        week was planned (or moved) had none. Planning, editing and swapping weeks call this.
        Deployments still linked to one of these weeks but started outside it (its date was
        changed) go to the week they did start in, if any. Returns how many changed: two
        queries, plus one update per week that gains or loses deployments.
        """
        weeks = dict(self.values_list("week_start", "pk"))
        if not weeks:
            return 0
        zone = timezone.get_current_timezone()
        in_weeks = Q()
        for monday in weeks:
            start = datetime.datetime.combine(monday, datetime.time.min, tzinfo=zone)
            end = datetime.datetime.combine(
                monday + datetime.timedelta(weeks=1), datetime.time.min, tzinfo=zone
            )
            in_weeks |= Q(started_at__gte=start, started_at__lt=end)
        rows = list(
            Deployment.objects.filter(in_weeks | Q(duty_week__in=weeks.values())).values_list(
                "pk", "started_at", "duty_week_id"
            )
        )
        outside = {
            monday_of(timezone.localdate(started_at))
            for _, started_at, _ in rows
            if monday_of(timezone.localdate(started_at)) not in weeks
        }
        if outside:
            weeks |= dict(
                DutyWeek.objects.filter(week_start__in=outside).values_list("week_start", "pk")
            )
        moves: dict[int | None, list[int]] = {}
        for pk, started_at, current in rows:
            week = weeks.get(monday_of(timezone.localdate(started_at)))
            if week != current:
                moves.setdefault(week, []).append(pk)
        for week, pks in moves.items():
            Deployment.objects.filter(pk__in=pks).update(duty_week=week)
        return sum(len(pks) for pks in moves.values())


class DutyWeek(models.Model):
    """One ISO week: the product unit on deployment duty, its QA shadow and platform member."""

    week_start = models.DateField(unique=True, help_text="The Monday of the ISO week.")
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        related_name="duty_weeks",
        limit_choices_to={"kind": Unit.Kind.PRODUCT},
    )
    qa_person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="qa_duty_weeks",
        verbose_name="QA shadow",
    )
    platform_person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="platform_duty_weeks",
        verbose_name="platform member",
    )

    objects = DutyWeekQuerySet.as_manager()

    class Meta:
        ordering = ["-week_start"]

    def __str__(self) -> str:
        return f"{self.iso_label} · {self.unit}"

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        DutyWeek.objects.filter(pk=self.pk).link_deployments()

    @property
    def iso_label(self) -> str:
        return week_label(self.week_start)

    @property
    def week_end(self) -> datetime.date:
        return self.week_start + datetime.timedelta(days=6)


class DeploymentQuerySet(models.QuerySet):
    def stats(self) -> dict:
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
        self, external_id: str, on_create: dict | None = None, *, is_stale=None, **fields
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
                        deployment = self.model(
                            external_id=external_id, **{**(on_create or {}), **fields}
                        )
                        deployment.save()
                    return deployment, True
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

    def save(self, *args, **kwargs) -> None:
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
        return reverse("deployment_detail", args=[self.pk])

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

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_manual(self) -> bool:
        return self.mode in (self.Mode.MANUAL, self.Mode.SEMI_AUTOMATIC)

    @transaction.atomic
    def change_mode(self, mode: str, user=None, note: str = "") -> "ProcessStepChange | None":
        if mode == self.mode:
            return None
        change = ProcessStepChange.objects.create(
            step=self, old_mode=self.mode, new_mode=mode, changed_by=user, note=note
        )
        self.mode = mode
        self.save(update_fields=["mode"])
        return change


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


MAX_VOTES_PER_PERSON = 20


class Retrospective(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"

    class Phase(models.TextChoices):
        """The meeting's steps before submit, in order; the facilitator moves between them."""

        COLLECT = "collect", "Collect"
        GROUP = "group", "Group"
        VOTE = "vote", "Vote"
        DISCUSS = "discuss", "Discuss"

    duty_week = models.OneToOneField(DutyWeek, on_delete=models.PROTECT, related_name="retro")
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="facilitated_retros",
    )
    attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="attended_retros"
    )
    pain_rating = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="How painful were this week's deployments? 1 (not) to 5."
    )
    confidence_rating = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Confidence in the process: 1 (none) to 5 (full)."
    )
    summary = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.DRAFT)
    # The meeting: its phase, private writing and the vote budget (see retros/meeting.py).
    phase = models.CharField(max_length=10, choices=Phase, default=Phase.COLLECT)
    findings_hidden = models.BooleanField(
        default=False,
        help_text="Private writing: each person sees only their own findings until revealed.",
    )
    votes_per_person = models.PositiveSmallIntegerField(
        default=3, help_text="Votes each attendee may spend on findings and groups."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-duty_week__week_start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(votes_per_person__range=(1, MAX_VOTES_PER_PERSON)),
                name="retro_votes_per_person_in_range",
                violation_error_message="Each person has between 1 and 20 votes.",
            ),
            models.CheckConstraint(
                condition=Q(pain_rating__isnull=True) | Q(pain_rating__range=(1, 5)),
                name="retro_pain_rating_1_to_5",
                violation_error_message="Ratings go from 1 to 5.",
            ),
            models.CheckConstraint(
                condition=Q(confidence_rating__isnull=True) | Q(confidence_rating__range=(1, 5)),
                name="retro_confidence_rating_1_to_5",
                violation_error_message="Ratings go from 1 to 5.",
            ),
        ]

    def __str__(self) -> str:
        return f"Retro {self.duty_week}"

    def get_absolute_url(self) -> str:
        return reverse("retro_detail", args=[self.pk])

    @property
    def is_submitted(self) -> bool:
        return self.status == self.Status.SUBMITTED

    def missing_attendees(self) -> list[str]:
        """Who must attend but is not listed: the unit, its QA shadow and its platform member."""
        week = self.duty_week
        attendee_ids = {user.pk for user in self.attendees.all()}
        missing = []
        if not week.unit.members.filter(pk__in=attendee_ids).exists():
            missing.append(f"someone from {week.unit}")
        for role, person in (
            ("QA shadow", week.qa_person),
            ("platform member", week.platform_person),
        ):
            if person is None:
                missing.append(f"a {role} (none is assigned to this week)")
            elif person.pk not in attendee_ids:
                missing.append(f"{person.get_full_name() or person.get_username()} ({role})")
        return missing

    def record_revision(self, user, changes: dict) -> "RetroRevision | None":
        """Keep a record of an edit made after submit; edits before submit are the retro itself."""
        if not self.is_submitted or not changes:
            return None
        return RetroRevision.objects.create(retro=self, user=user, changes=changes)

    def touch(self) -> None:
        """Mark the retro changed, so attendees polling its findings fetch them again."""
        self.save(update_fields=["updated_at"])

    @transaction.atomic(savepoint=False)
    def submit(self) -> None:
        """Submit, and queue the chat message in the same transaction."""
        from . import outbox  # outbox builds on these models

        self.status = self.Status.SUBMITTED
        self.submitted_at = timezone.now()
        # Nothing stays private in a submitted retro.
        self.findings_hidden = False
        self.save(update_fields=["status", "submitted_at", "findings_hidden", "updated_at"])
        outbox.enqueue(outbox.retro_submitted(self))

    @property
    def vote_totals_shown(self) -> bool:
        """Totals stay secret while people vote, so nobody follows the crowd."""
        return self.is_submitted or self.phase == self.Phase.DISCUSS

    def set_phase(self, phase: str) -> None:
        """Move the meeting to `phase`; leaving Collect reveals what was written privately."""
        self.phase = phase
        fields = ["phase", "updated_at"]
        if phase != self.Phase.COLLECT and self.findings_hidden:
            self.findings_hidden = False
            fields.append("findings_hidden")
        self.save(update_fields=fields)

    def cast_vote(self, user, *, finding=None, group=None) -> bool:
        """Spend one of `user`'s votes; False when they have none left.

        Call inside a transaction that holds this retro's row lock (select_for_update), so
        two tabs voting at once cannot both take the last vote.
        """
        used = Vote.objects.filter(retro=self, voter=user).count()
        if used >= self.votes_per_person:
            return False
        Vote.objects.create(retro=self, voter=user, finding=finding, group=group)
        self.touch()
        return True

    def withdraw_vote(self, user, *, finding=None, group=None) -> bool:
        """Take back one of `user`'s votes on that finding or group; False if there was none."""
        vote = (
            Vote.objects.filter(retro=self, voter=user, finding=finding, group=group)
            .order_by("-id")
            .first()
        )
        if vote is None:
            return False
        vote.delete()
        self.touch()
        return True

    def visible_findings(self, user) -> "models.QuerySet[Finding]":
        """The findings `user` may see: during private writing, only their own."""
        findings = self.findings.all()
        if self.findings_hidden and not self.is_submitted:
            findings = findings.filter(author_id=user.pk)
        return findings


class FindingGroup(models.Model):
    """Findings about the same thing, put together in the meeting and triaged as one."""

    retro = models.ForeignKey(Retrospective, on_delete=models.CASCADE, related_name="groups")
    title = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def vote_key(self) -> str:
        """How forms name this group as a vote or grouping target."""
        return f"g{self.pk}"

    def dissolve_if_alone(self) -> None:
        """A group of one is no group: its finding stands alone again and keeps the votes."""
        members = list(self.findings.all()[:2])
        if len(members) > 1:
            return
        if members:
            Vote.objects.filter(group=self).update(group=None, finding=members[0])
            Finding.objects.filter(pk=members[0].pk).update(group=None)
        self.delete()


# The order a meeting discusses kinds in: what hurt first, what went well last.
KIND_ORDER = {"pain": 0, "idea": 1, "question": 2, "well": 3}


def most_pressing_kind(findings) -> str:
    """The kind a group of findings is discussed (and triaged) as."""
    return min((finding.kind for finding in findings), key=KIND_ORDER.get, default="pain")


def rank(items: list) -> list:
    """Findings and groups in the order a meeting discusses them: most votes, then by kind
    (pains first), then oldest first. Each item has `kind`, `created_at` and, once counted,
    `votes_total`."""
    return sorted(
        items,
        key=lambda item: (
            -getattr(item, "votes_total", 0),
            KIND_ORDER.get(item.kind, 9),
            item.created_at,
            item.pk,
        ),
    )


class Finding(models.Model):
    """One line of a retro."""

    class Kind(models.TextChoices):
        WENT_WELL = "well", "Went well"
        PAIN = "pain", "Pain"
        QUESTION = "question", "Question"
        IDEA = "idea", "Idea"

    class Outcome(models.TextChoices):
        PENDING = "pending", "Not triaged"
        IMPROVEMENT = "improvement", "Improvement"
        NO_ACTION = "no_action", "No action"

    retro = models.ForeignKey(Retrospective, on_delete=models.CASCADE, related_name="findings")
    kind = models.CharField(max_length=10, choices=Kind, default=Kind.PAIN)
    text = models.TextField(max_length=2000)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    outcome = models.CharField(max_length=12, choices=Outcome, default=Outcome.PENDING)
    no_action_reason = models.CharField(max_length=300, blank=True)
    group = models.ForeignKey(
        FindingGroup,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="findings",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when the finding was noted during a deployment run, on one of its steps.
    run = models.ForeignKey(
        "DeploymentRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="notes"
    )
    run_step = models.ForeignKey(
        "RunStep", on_delete=models.SET_NULL, null=True, blank=True, related_name="notes"
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["kind", "outcome"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(run_step__isnull=True) | Q(run__isnull=False),
                name="finding_run_step_needs_run",
                violation_error_message="A finding noted on a run step belongs to that run.",
            ),
        ]

    def __str__(self) -> str:
        return self.text[:80]

    @property
    def needs_triage(self) -> bool:
        return self.kind in (self.Kind.PAIN, self.Kind.IDEA)

    @property
    def is_triaged(self) -> bool:
        return self.outcome != self.Outcome.PENDING

    @property
    def vote_key(self) -> str:
        """How forms name this finding as a vote or grouping target."""
        return f"f{self.pk}"

    def group_with(self, other: "Finding | FindingGroup", user=None) -> "FindingGroup":
        """Put this finding in a group with `other` (a finding or a group of the same retro).

        Dropping it on a lone finding makes a new group titled after that finding. Votes
        follow the findings into the group, so no vote is lost by grouping.
        """
        if isinstance(other, FindingGroup):
            group = other
        elif other.group_id:
            group = other.group
        else:
            title = (other.text.strip().splitlines() or ["Group"])[0][:80]
            group = FindingGroup.objects.create(
                retro_id=self.retro_id, title=title, created_by=user
            )
            Vote.objects.filter(finding=other).update(finding=None, group=group)
            Finding.objects.filter(pk=other.pk).update(group=group)
        if group.pk == self.group_id:
            return group
        previous = self.group
        Vote.objects.filter(finding=self).update(finding=None, group=group)
        self.group = group
        self.save(update_fields=["group"])
        if previous is not None:
            previous.dissolve_if_alone()
        return group

    def leave_group(self) -> None:
        """Take this finding out of its group (its votes stay with the group)."""
        previous = self.group
        if previous is None:
            return
        self.group = None
        self.save(update_fields=["group"])
        previous.dissolve_if_alone()

    @property
    def source(self) -> str:
        """Where the finding was raised when not in the retro meeting, or "".

        The one place that knows the ways in: a note made during a deployment run carries
        its run (and step); the retro page marks such findings with this text.
        """
        run_id = getattr(self, "run_id", None)
        if run_id:
            return f"deployment run #{run_id}"
        return ""


class Vote(models.Model):
    """One of an attendee's votes, on a finding or on a group (one vote per row)."""

    retro = models.ForeignKey(Retrospective, on_delete=models.CASCADE, related_name="votes")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    finding = models.ForeignKey(
        Finding, on_delete=models.CASCADE, null=True, blank=True, related_name="votes"
    )
    group = models.ForeignKey(
        FindingGroup, on_delete=models.CASCADE, null=True, blank=True, related_name="votes"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["retro", "voter"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(finding__isnull=True, group__isnull=False)
                | Q(finding__isnull=False, group__isnull=True),
                name="vote_on_a_finding_or_a_group",
                violation_error_message="A vote goes to one finding or one group.",
            ),
        ]

    def __str__(self) -> str:
        return f"Vote by {self.voter_id} in retro {self.retro_id}"


class RetroRevision(models.Model):
    """An edit made to a retro after it was submitted."""

    retro = models.ForeignKey(Retrospective, on_delete=models.CASCADE, related_name="revisions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    at = models.DateTimeField(default=timezone.now)
    changes = models.JSONField(default=dict)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"Edit of {self.retro} at {self.at:%Y-%m-%d %H:%M}"


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
        cls, name: str, user=None, scopes=(Scope.DEPLOYMENTS_WRITE,)
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


# Messages to the company's chat and to other systems. An OutboxMessage is written in the same
# transaction as the change it reports; the deliver_outbox worker fans it out to the targets
# configured when it runs (one Delivery each) and posts those with retries. See retros/outbox.py.


class ChatWebhook(models.Model):
    """An incoming-webhook URL of a chat channel: a unit's, or the organisation's (no unit)."""

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


# A unit's feed URL is a secret its members share. Someone who leaves the unit (or whose account
# is deactivated) must not keep reading it, so the URL is renewed then; the members who stay
# find the new one on the unit's page (their personal feed, which covers their units, is kept).
# Signals, because members change in the unit pages, in the admin and from the user's side.
@receiver(m2m_changed, sender=Unit.members.through)
def _renew_unit_feeds_when_a_member_leaves(
    sender, instance, action: str, reverse: bool, pk_set, **kwargs
) -> None:
    if action == "pre_clear" and reverse:
        instance._units_before_clear = list(instance.units.all())
    elif action == "post_clear" and reverse:
        for unit in getattr(instance, "_units_before_clear", []):
            unit.regenerate_feed_token()
    elif action == "post_clear" or (action == "post_remove" and not reverse and pk_set):
        instance.regenerate_feed_token()
    elif action == "post_remove" and reverse and pk_set:
        for unit in Unit.objects.filter(pk__in=pk_set):
            unit.regenerate_feed_token()


@receiver(pre_save, sender=settings.AUTH_USER_MODEL)
def _renew_unit_feeds_when_a_member_is_deactivated(sender, instance, update_fields, **kwargs):
    if instance.pk is None or instance.is_active:
        return
    if update_fields is not None and "is_active" not in update_fields:
        return
    if sender.objects.filter(pk=instance.pk, is_active=True).exists():
        for unit in Unit.objects.filter(members=instance):
            unit.regenerate_feed_token()


# Deployment runs: the deployment done step by step in the app, measured as it happens.


class RunRefused(Exception):
    """A run or step action that the current state does not allow; the message says why.

    `status` is the HTTP answer: 409 when the state has moved on (someone else pressed first),
    400 when the input itself is missing or wrong.
    """

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.status = status


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


def revise_how_to(step: ProcessStep, how_to: str, author, run=None) -> "ProcessStepRevision | None":
    """Change a step's how-to and keep the new text as a revision; None if nothing changed."""
    if how_to == step.how_to:
        return None
    with transaction.atomic():
        step.how_to = how_to
        step.save(update_fields=["how_to"])
        return ProcessStepRevision.objects.create(step=step, how_to=how_to, author=author, run=run)


class DeploymentRunQuerySet(models.QuerySet):
    def running(self) -> "DeploymentRunQuerySet":
        return self.filter(state=DeploymentRun.State.RUNNING)


class DeploymentRun(models.Model):
    """One pass of the unit on duty through the deployment process, done in the app."""

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        ABORTED = "aborted", "Aborted"

    FINISH_RESULTS = [
        (Deployment.Result.SUCCESS, "Success"),
        (Deployment.Result.FAILURE, "Failure"),
        (Deployment.Result.ROLLED_BACK, "Rolled back"),
    ]

    duty_week = models.ForeignKey(
        DutyWeek, on_delete=models.SET_NULL, null=True, blank=True, related_name="runs"
    )
    environment = models.CharField(
        max_length=12, choices=Deployment.Environment, default=Deployment.Environment.PRODUCTION
    )
    version = models.CharField(max_length=100, blank=True, help_text="Commit SHA or version.")
    pipeline_id = models.CharField(
        max_length=190,
        blank=True,
        help_text="The CI pipeline's id: a CI post with it joins this run's deployment.",
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="started_runs",
    )
    state = models.CharField(max_length=10, choices=State, default=State.RUNNING)
    result = models.CharField(max_length=12, choices=Deployment.Result, blank=True)
    abort_reason = models.CharField(max_length=300, blank=True)
    restarts = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ended_runs",
    )
    # Bumped by every change (steps, notes, how-to): watchers' polls compare it as their ETag.
    revision = models.PositiveIntegerField(default=0)
    deployment = models.OneToOneField(
        Deployment, on_delete=models.SET_NULL, null=True, blank=True, related_name="run"
    )

    objects = DeploymentRunQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["state", "-started_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="running", finished_at__isnull=True)
                | (~Q(state="running") & Q(finished_at__isnull=False)),
                name="run_finished_at_iff_ended",
                violation_error_message="A run has an end time exactly when it has ended.",
            ),
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True) | Q(finished_at__gte=F("started_at")),
                name="run_finishes_after_start",
                violation_error_message="A run cannot end before it starts.",
            ),
            models.CheckConstraint(
                condition=~Q(state="aborted") | ~Q(abort_reason=""),
                name="run_abort_has_reason",
                violation_error_message="An aborted run says why.",
            ),
            models.UniqueConstraint(
                fields=["pipeline_id"],
                condition=Q(state="running") & ~Q(pipeline_id=""),
                name="one_running_run_per_pipeline",
                violation_error_message="A run is already running for this pipeline.",
            ),
        ]

    def __str__(self) -> str:
        return f"Run #{self.pk} {self.get_environment_display()} {self.version}".rstrip()

    def get_absolute_url(self) -> str:
        return reverse("run_detail", args=[self.pk])

    @property
    def is_running(self) -> bool:
        return self.state == self.State.RUNNING

    @property
    def elapsed_seconds(self) -> int | None:
        if self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds())

    @classmethod
    @transaction.atomic
    def start(cls, user, *, environment: str, version: str = "", pipeline_id: str = "", at=None):
        """Start a run over the process steps active now (dropped steps are left out)."""
        at = as_utc(at)
        week = DutyWeek.objects.filter(week_start=monday_of(timezone.localdate(at))).first()
        run = cls.objects.create(
            duty_week=week,
            environment=environment,
            version=version,
            pipeline_id=pipeline_id,
            started_by=user,
            started_at=at,
        )
        steps = ProcessStep.objects.exclude(mode=ProcessStep.Mode.DROPPED).order_by(
            "position", "pk"
        )
        RunStep.objects.bulk_create(
            RunStep(
                run=run,
                process_step=step,
                position=index,
                title=step.title,
                mode=step.mode,
                how_to=step.how_to,
            )
            for index, step in enumerate(steps, start=1)
        )
        RunEvent.objects.create(run=run, kind=RunEvent.Kind.STARTED, actor=user, at=at)
        return run

    def _require_running(self) -> None:
        if not self.is_running:
            who = self.ended_by.get_username() if self.ended_by else "someone"
            raise RunRefused(
                f"This run is already {self.get_state_display().lower()} "
                f"(by {who} at {clock(self.finished_at)})."
            )

    def _bump(self, *fields: str) -> None:
        # Callers hold the run row's lock (select_for_update), so a plain increment is safe.
        self.revision += 1
        self.save(update_fields=["revision", *fields])

    def touch(self) -> None:
        """Mark the run changed, so watchers' polls fetch it again."""
        self._bump()

    def _close_open_intervals(self, at, user) -> None:
        for step in self.steps.filter(state__in=[RunStep.State.IN_PROGRESS, RunStep.State.BLOCKED]):
            step._close_interval(at, user)

    def step_action(self, step: "RunStep", action: str, user, *, text: str = "", at=None):
        """Apply a step action (RunStep.TRANSITIONS); the caller holds the run row's lock."""
        self._require_running()
        step.apply(action, user, text=text, at=as_utc(at))
        self._bump()

    def restart_from(self, step: "RunStep", user, *, reason: str = "", at=None) -> None:
        """Go back to `step`: it and every later step start again from to do; one restart more."""
        self._require_running()
        at = as_utc(at)
        later = list(self.steps.filter(position__gte=step.position).order_by("position"))
        if all(s.state == RunStep.State.TODO for s in later):
            raise RunRefused(
                f"Nothing to restart: “{step.title}” and the steps after it are still to do."
            )
        # The step where the trouble showed: the furthest one that was under way.
        culprit = next(
            (
                s
                for s in reversed(later)
                if s.state in (RunStep.State.IN_PROGRESS, RunStep.State.BLOCKED)
            ),
            None,
        ) or next((s for s in reversed(later) if s.state != RunStep.State.TODO), step)
        culprit.restarts_caused = F("restarts_caused") + 1
        culprit.save(update_fields=["restarts_caused"])
        for each in later:
            if each.state in (RunStep.State.IN_PROGRESS, RunStep.State.BLOCKED):
                each._close_interval(at, user)
        RunStep.objects.filter(pk__in=[s.pk for s in later]).update(
            state=RunStep.State.TODO, finished_at=None, skip_reason="", block_cause=""
        )
        self.restarts = F("restarts") + 1
        RunEvent.objects.create(
            run=self, step=step, kind=RunEvent.Kind.RESTARTED, actor=user, at=at, text=reason[:300]
        )
        self._bump("restarts")
        self.refresh_from_db(fields=["restarts"])

    def abort(self, user, reason: str, at=None) -> Deployment:
        self._require_running()
        reason = reason.strip()
        if not reason:
            raise RunRefused("Say why the run is aborted.", status=400)
        at = as_utc(at)
        self._close_open_intervals(at, user)
        self.state, self.abort_reason = self.State.ABORTED, reason[:300]
        self.result, self.finished_at, self.ended_by = Deployment.Result.ABORTED, at, user
        RunEvent.objects.create(
            run=self, kind=RunEvent.Kind.ABORTED, actor=user, at=at, text=reason[:300]
        )
        self._bump("state", "abort_reason", "result", "finished_at", "ended_by")
        return self.write_deployment()

    def finish(self, user, result: str = Deployment.Result.SUCCESS, at=None) -> Deployment:
        self._require_running()
        if result not in dict(self.FINISH_RESULTS):
            raise RunRefused("A run finishes as a success, a failure or rolled back.", status=400)
        open_steps = [s.title for s in self.steps.all() if s.state not in RunStep.ENDED]
        if result == Deployment.Result.SUCCESS and open_steps:
            raise RunRefused(
                f"{len(open_steps)} step{'s' if len(open_steps) != 1 else ''} not done or "
                f"skipped yet (first: “{open_steps[0]}”). Finish them, or finish as a failure."
            )
        at = as_utc(at)
        self._close_open_intervals(at, user)
        self.state, self.result, self.finished_at, self.ended_by = (
            self.State.FINISHED,
            result,
            at,
            user,
        )
        RunEvent.objects.create(
            run=self, kind=RunEvent.Kind.FINISHED, actor=user, at=at, text=result
        )
        self._bump("state", "result", "finished_at", "ended_by")
        return self.write_deployment()

    def totals(self) -> dict:
        """Seconds hands-on, waiting and blocked, from the closed intervals of every step."""
        figures = self.steps.aggregate(
            hands_on=Sum("hands_on_seconds"),
            waiting=Sum("waiting_seconds"),
            blocked=Sum("blocked_seconds"),
            manual_done=Count(
                "pk",
                filter=Q(
                    state=RunStep.State.DONE,
                    mode__in=[ProcessStep.Mode.MANUAL, ProcessStep.Mode.SEMI_AUTOMATIC],
                ),
            ),
        )
        return {name: value or 0 for name, value in figures.items()}

    def write_deployment(self) -> Deployment:
        """Create or update this run's Deployment; a CI post with the pipeline id joins it."""
        totals = self.totals()
        causes = (
            RunEvent.objects.filter(run=self, kind=RunEvent.Kind.BLOCK)
            .exclude(text="")
            .order_by("at", "pk")
            .values_list("text", flat=True)
        )
        fields = {
            "environment": self.environment,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "hands_on_minutes": round(totals["hands_on"] / 60),
            "blocked_minutes": round(totals["blocked"] / 60),
            "blocked_cause": "; ".join(dict.fromkeys(causes))[:200],
            "restarts": self.restarts,
            "manual_steps_done": totals["manual_done"],
            "result": self.result,
            "trigger": Deployment.Trigger.MANUAL
            if totals["manual_done"]
            else Deployment.Trigger.ONE_BUTTON,
            "version": self.version,
            "deployer": self.started_by,
            "shadow": self.duty_week.qa_person if self.duty_week else None,
        }
        if self.deployment_id:
            deployment = Deployment.objects.select_for_update().get(pk=self.deployment_id)
            for name, value in fields.items():
                setattr(deployment, name, value)
            deployment.save()
        elif self.pipeline_id:
            deployment, _ = Deployment.objects.record_external(
                self.pipeline_id,
                on_create={"notes": f"Done step by step as run #{self.pk}."},
                **fields,
            )
        else:
            deployment = Deployment.objects.create(
                notes=f"Done step by step as run #{self.pk}.", **fields
            )
        # A pipeline run again after an aborted run: its deployment is this run's now.
        DeploymentRun.objects.filter(deployment=deployment).exclude(pk=self.pk).update(
            deployment=None
        )
        self.deployment = deployment
        self.save(update_fields=["deployment"])
        return deployment

    def add_note(self, user, kind: str, text: str, step: "RunStep | None" = None) -> Finding:
        """A question, pain or idea raised during the run, as a finding of that week's retro."""
        if self.duty_week_id is None:
            raise RunRefused(
                "No unit was on duty the week of this run, so there is no retro for its notes."
            )
        if kind not in RunEvent.NOTE_KINDS:
            raise RunRefused("A note is a question, a pain or an idea.", status=400)
        text = text.strip()
        if not text:
            raise RunRefused("Write the note first.", status=400)
        retro, _ = Retrospective.objects.get_or_create(
            duty_week=self.duty_week, defaults={"facilitator": None}
        )
        finding = Finding.objects.create(
            retro=retro, kind=kind, text=text[:2000], author=user, run=self, run_step=step
        )
        retro.touch()
        self._bump()
        return finding


def as_utc(moment: datetime.datetime | None) -> datetime.datetime:
    """Now, or the given aware moment, in UTC: durations are then real time across DST."""
    return (moment or timezone.now()).astimezone(datetime.UTC)


def clock(moment: datetime.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%H:%M") if moment else "?"


class RunStep(models.Model):
    """One step of a run: a copy of the process step as it was at the start, and its state."""

    class State(models.TextChoices):
        TODO = "todo", "To do"
        IN_PROGRESS = "in_progress", "In progress"
        BLOCKED = "blocked", "Blocked"
        DONE = "done", "Done"
        SKIPPED = "skipped", "Skipped"

    # action: (states it is allowed from, state it leads to). Anything else is refused.
    TRANSITIONS = {
        "start": ({State.TODO}, State.IN_PROGRESS),
        "done": ({State.IN_PROGRESS}, State.DONE),
        "block": ({State.TODO, State.IN_PROGRESS}, State.BLOCKED),
        "unblock": ({State.BLOCKED}, State.IN_PROGRESS),
        "skip": ({State.TODO, State.IN_PROGRESS, State.BLOCKED}, State.SKIPPED),
    }
    ACTION_LABELS = {
        "start": "Start",
        "done": "Done",
        "block": "Blocked",
        "unblock": "Unblocked",
        "skip": "Skip",
    }
    ENDED = {State.DONE, State.SKIPPED}

    run = models.ForeignKey(DeploymentRun, on_delete=models.CASCADE, related_name="steps")
    process_step = models.ForeignKey(
        ProcessStep, on_delete=models.SET_NULL, null=True, blank=True, related_name="run_steps"
    )
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    mode = models.CharField(max_length=10, choices=ProcessStep.Mode)
    how_to = models.TextField(blank=True)
    state = models.CharField(max_length=12, choices=State, default=State.TODO)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    acted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    acted_at = models.DateTimeField(null=True, blank=True)
    skip_reason = models.CharField(max_length=300, blank=True)
    block_cause = models.CharField(max_length=200, blank=True)
    # Sums of the closed intervals below, kept so dashboards aggregate steps, not intervals.
    hands_on_seconds = models.PositiveIntegerField(default=0)
    waiting_seconds = models.PositiveIntegerField(default=0)
    blocked_seconds = models.PositiveIntegerField(default=0)
    blocks = models.PositiveIntegerField(default=0)
    restarts_caused = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["process_step", "state"])]
        constraints = [
            models.UniqueConstraint(fields=["run", "position"], name="run_step_position_unique"),
            models.CheckConstraint(
                condition=~Q(state="skipped") | ~Q(skip_reason=""),
                name="run_step_skip_has_reason",
                violation_error_message="A skipped step says why.",
            ),
            models.CheckConstraint(
                condition=~Q(state="blocked") | ~Q(block_cause=""),
                name="run_step_block_has_cause",
                violation_error_message="A blocked step says what blocks it.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"

    @property
    def is_manual(self) -> bool:
        return self.mode in (ProcessStep.Mode.MANUAL, ProcessStep.Mode.SEMI_AUTOMATIC)

    def allowed_actions(self) -> list[str]:
        return [
            action for action, (sources, _) in self.TRANSITIONS.items() if self.state in sources
        ]

    def _refusal(self, action: str) -> str:
        label = self.ACTION_LABELS.get(action, action)
        who = self.acted_by.get_username() if self.acted_by_id else "someone"
        when = clock(self.acted_at)
        if self.state == self.TRANSITIONS.get(action, (None, None))[1]:
            state = self.get_state_display().lower()
            return f"“{self.title}” is already {state}: {who} did that at {when}."
        return (
            f"“{label}” is not possible: “{self.title}” is {self.get_state_display().lower()} "
            f"(since {who} acted at {when})."
        )

    def apply(self, action: str, user, *, text: str = "", at: datetime.datetime) -> None:
        """One transition of the table above, with its interval and event; refused ones raise."""
        if action not in self.TRANSITIONS:
            raise RunRefused(f"There is no step action “{action[:30]}”.", status=400)
        sources, target = self.TRANSITIONS[action]
        if self.state not in sources:
            raise RunRefused(self._refusal(action))
        text = text.strip()
        if action == "skip" and not text:
            raise RunRefused("Say why the step is skipped.", status=400)
        if action == "block" and not text:
            raise RunRefused("Say what blocks the step.", status=400)
        if self.state in (self.State.IN_PROGRESS, self.State.BLOCKED):
            self._close_interval(at, user)
        if target in (self.State.IN_PROGRESS, self.State.BLOCKED):
            kind = (
                RunStepInterval.Kind.BLOCKED
                if target == self.State.BLOCKED
                else RunStepInterval.Kind.WORKING
            )
            RunStepInterval.objects.create(step=self, kind=kind, started_at=at, started_by=user)
        if action == "start" or (action == "block" and self.started_at is None):
            self.started_at = self.started_at or at
        if action == "block":
            self.block_cause, self.blocks = text[:200], self.blocks + 1
        if action == "unblock":
            self.block_cause = ""
        if action == "skip":
            self.skip_reason = text[:300]
        if target in self.ENDED:
            self.finished_at = at
        self.state, self.acted_by, self.acted_at = target, user, at
        self.save()
        RunEvent.objects.create(
            run_id=self.run_id, step=self, kind=action, actor=user, at=at, text=text[:300]
        )

    def _close_interval(self, at: datetime.datetime, user) -> None:
        """End the open interval and add its seconds to the step's hands-on, waiting or blocked."""
        interval = self.intervals.filter(ended_at__isnull=True).first()
        if interval is None:
            return
        interval.ended_at, interval.ended_by = max(at, interval.started_at), user
        interval.save(update_fields=["ended_at", "ended_by"])
        seconds = round((interval.ended_at - interval.started_at).total_seconds())
        if interval.kind == RunStepInterval.Kind.BLOCKED:
            field = "blocked_seconds"
        elif self.is_manual:
            field = "hands_on_seconds"
        else:
            field = "waiting_seconds"
        setattr(self, field, getattr(self, field) + seconds)
        RunStep.objects.filter(pk=self.pk).update(**{field: F(field) + seconds})


class RunStepInterval(models.Model):
    """A stretch of time a step was worked on (or waited for) or blocked: the measured truth."""

    class Kind(models.TextChoices):
        WORKING = "working", "Working"
        BLOCKED = "blocked", "Blocked"

    step = models.ForeignKey(RunStep, on_delete=models.CASCADE, related_name="intervals")
    kind = models.CharField(max_length=10, choices=Kind)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["step"],
                condition=Q(ended_at__isnull=True),
                name="run_step_one_open_interval",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="run_interval_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.step}"

    @property
    def seconds(self) -> int | None:
        if self.ended_at is None:
            return None
        return round((self.ended_at - self.started_at).total_seconds())


class RunEvent(models.Model):
    """The run's timeline: what happened, who did it and when."""

    class Kind(models.TextChoices):
        STARTED = "started", "Run started"
        START = "start", "Step started"
        DONE = "done", "Step done"
        BLOCK = "block", "Step blocked"
        UNBLOCK = "unblock", "Step unblocked"
        SKIP = "skip", "Step skipped"
        RESTARTED = "restarted", "Restarted from this step"
        ABORTED = "aborted", "Run aborted"
        FINISHED = "finished", "Run finished"

    NOTE_KINDS = [Finding.Kind.QUESTION, Finding.Kind.PAIN, Finding.Kind.IDEA]

    run = models.ForeignKey(DeploymentRun, on_delete=models.CASCADE, related_name="events")
    step = models.ForeignKey(
        RunStep, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    kind = models.CharField(max_length=10, choices=Kind)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    text = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%H:%M}"
