"""Deployment runs: the deployment done step by step in the app, measured as it happens."""

import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models, transaction
from django.db.models import Count, F, Q, Sum
from django.urls import reverse
from django.utils import timezone

from ..weeks import monday_of
from .deployments import MANUAL_MODES, Deployment, ProcessStep
from .retros import Finding, Retrospective
from .teams import DutyWeek


class RunRefused(Exception):
    """A run or step action that the current state does not allow; the message says why.

    `status` is the HTTP answer: 409 when the state has moved on (someone else pressed first),
    400 when the input itself is missing or wrong.
    """

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.status = status


class DeploymentRunQuerySet(models.QuerySet["DeploymentRun"]):
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
        return reverse("runs:run_detail", args=[self.pk])

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
    def start(
        cls,
        user: User,
        *,
        environment: str,
        version: str = "",
        pipeline_id: str = "",
        at: datetime.datetime | None = None,
    ) -> "DeploymentRun":
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

    def _close_open_intervals(self, at: datetime.datetime, user: User) -> None:
        for step in self.steps.filter(state__in=[RunStep.State.IN_PROGRESS, RunStep.State.BLOCKED]):
            step._close_interval(at, user)

    def step_action(
        self,
        step: "RunStep",
        action: str,
        user: User,
        *,
        text: str = "",
        at: datetime.datetime | None = None,
    ) -> None:
        """Apply a step action (RunStep.TRANSITIONS); the caller holds the run row's lock."""
        self._require_running()
        step.apply(action, user, text=text, at=as_utc(at))
        self._bump()

    def restart_from(
        self,
        step: "RunStep",
        user: User,
        *,
        reason: str = "",
        at: datetime.datetime | None = None,
    ) -> None:
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

    def abort(self, user: User, reason: str, at: datetime.datetime | None = None) -> Deployment:
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

    def finish(
        self,
        user: User,
        result: str = Deployment.Result.SUCCESS,
        at: datetime.datetime | None = None,
    ) -> Deployment:
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
                    mode__in=MANUAL_MODES,
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

    def add_note(self, user: User, kind: str, text: str, step: "RunStep | None" = None) -> Finding:
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

    # Not stored: set by retros.runs for the run page (its buttons, URLs and counts).
    act_url: str
    buttons: list[dict[str, Any]]
    is_next: bool
    can_edit_how_to: bool
    how_to_url: str
    restart_url: str
    how_to_html: str
    note_count: int

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
        return self.mode in MANUAL_MODES

    def allowed_actions(self) -> list[str]:
        return [
            action for action, (sources, _) in self.TRANSITIONS.items() if self.state in sources
        ]

    def _refusal(self, action: str) -> str:
        label = self.ACTION_LABELS.get(action, action)
        who = self.acted_by.get_username() if self.acted_by is not None else "someone"
        when = clock(self.acted_at)
        if self.state == self.TRANSITIONS.get(action, (None, None))[1]:
            state = self.get_state_display().lower()
            return f"“{self.title}” is already {state}: {who} did that at {when}."
        return (
            f"“{label}” is not possible: “{self.title}” is {self.get_state_display().lower()} "
            f"(since {who} acted at {when})."
        )

    def apply(self, action: str, user: User, *, text: str = "", at: datetime.datetime) -> None:
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

    def _close_interval(self, at: datetime.datetime, user: User) -> None:
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
