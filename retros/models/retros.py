"""Retrospectives of a duty week: findings, their groups, votes and the edit history."""

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from .teams import DutyWeek

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
    # The meeting: its phase, private writing and the vote budget (see retros/views/meeting.py).
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
        return reverse("retros:retro_detail", args=[self.pk])

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
        from .. import outbox  # outbox builds on these models

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

    def set_outcome(self, outcome: str, reason: str = "") -> None:
        """Record how triage ended for this finding: the one place its outcome is written.

        The outcome is a fact of the retro (its page, its markdown and who may remove a
        finding read it without knowing cards): the finding became work or joined some, was
        closed with a reason, or waits again. Which card it joined is the improvements app's
        FindingLink, whose save() sets IMPROVEMENT here. A reason is kept with NO_ACTION only.
        """
        self.outcome = outcome
        self.no_action_reason = reason if outcome == self.Outcome.NO_ACTION else ""
        self.save(update_fields=["outcome", "no_action_reason"])

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
