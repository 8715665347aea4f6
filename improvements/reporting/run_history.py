"""A believable history of deployment runs for the demo and the ten-year seed.

Each given deployment gets the finished run behind it: the steps active at the time, each
timed; a step's hands-on minutes shrink once an improvement targeting it is done, so the
"where do the minutes go" panel and the per-step effect show what happened. The
deployment's figures are rewritten from its run, as a real run would write them.
"""

import datetime
import random
from collections import defaultdict

from django.contrib.auth.models import User
from django.db.models import Min
from django.utils import timezone

from retros.models import (
    MANUAL_MODES,
    Deployment,
    DeploymentRun,
    ProcessStep,
    ProcessStepChange,
    RunEvent,
    RunStep,
    RunStepInterval,
)

from ..models import Improvement

BATCH = 2_000
BLOCK_CAUSES = [
    "Waiting for QA sign-off",
    "Staging database migration stuck",
    "Flaky end-to-end test",
    "Artefact registry down",
]


def _mode_at(step: ProcessStep, changes: list[tuple], moment: datetime.datetime) -> str:
    """The step's mode at `moment`: the old mode of the first change after it, else today's."""
    for changed_at, old_mode in changes:
        if changed_at > moment:
            return old_mode
    return step.mode


def add_runs(rng: random.Random, deployments: list[Deployment], events: bool = True) -> int:
    """Create one finished (or aborted) run behind each deployment; returns how many."""
    steps = list(ProcessStep.objects.order_by("position", "pk"))
    if not steps or not deployments:
        return 0
    history: dict[int, list[tuple]] = defaultdict(list)
    for step_id, changed_at, old_mode in ProcessStepChange.objects.order_by(
        "changed_at", "pk"
    ).values_list("step_id", "changed_at", "old_mode"):
        history[step_id].append((changed_at, old_mode))
    improved = dict(
        Improvement.objects.filter(target_step__isnull=False, done_at__isnull=False)
        .values("target_step")
        .annotate(first=Min("done_at"))
        .values_list("target_step", "first")
    )

    runs, plans = [], []
    for deployment in deployments:
        # The deployment's own figures are the story the seed tells (hands-on minutes that
        # fall over the years); the run splits them over its steps. A step's share shrinks
        # once the improvement targeting it is done.
        active = []
        for step in steps:
            mode = _mode_at(step, history[step.pk], deployment.started_at)
            if mode == ProcessStep.Mode.DROPPED:
                continue
            weight = max(1, step.minutes) * rng.lognormvariate(0, 0.3)
            if step.pk in improved and improved[step.pk] <= deployment.started_at:
                weight *= 0.3
            active.append((step, mode, weight))
        manual_weight = sum(w for _, mode, w in active if mode in MANUAL_MODES) or 1
        waiting_weight = sum(w for _, mode, w in active if mode not in MANUAL_MODES) or 1
        hands_on_total = deployment.hands_on_minutes * 60
        waiting_total = max(
            0,
            (deployment.elapsed_minutes - deployment.hands_on_minutes - deployment.blocked_minutes)
            * 60,
        )
        blocked_at = rng.randrange(len(active)) if active and deployment.blocked_minutes else None
        restart_at = rng.randrange(len(active)) if active and deployment.restarts else None
        moment = deployment.started_at
        step_rows, total = [], {"hands_on": 0, "waiting": 0, "blocked": 0, "manual": 0}
        for index, (step, mode, weight) in enumerate(active):
            manual = mode in MANUAL_MODES
            share = weight / (manual_weight if manual else waiting_weight)
            seconds = max(30, round((hands_on_total if manual else waiting_total) * share))
            blocked = deployment.blocked_minutes * 60 if index == blocked_at else 0
            restarted = deployment.restarts if index == restart_at else 0
            start = moment
            moment = start + datetime.timedelta(seconds=seconds + blocked)
            step_rows.append((step, mode, start, moment, seconds, blocked, restarted))
            total["hands_on" if manual else "waiting"] += seconds
            total["blocked"] += blocked
            total["manual"] += manual
        causes = (
            [deployment.blocked_cause or rng.choice(BLOCK_CAUSES)] if blocked_at is not None else []
        )
        restarts = deployment.restarts
        aborted = deployment.result == Deployment.Result.ABORTED
        run = DeploymentRun(
            duty_week=deployment.duty_week,
            environment=deployment.environment,
            version=deployment.version,
            pipeline_id=deployment.external_id or "",
            started_by=deployment.deployer,
            state=DeploymentRun.State.ABORTED if aborted else DeploymentRun.State.FINISHED,
            result=deployment.result,
            abort_reason="Stopped: the artefact was wrong." if aborted else "",
            restarts=restarts,
            started_at=deployment.started_at,
            finished_at=moment,
            ended_by=deployment.deployer,
            revision=len(step_rows) * 2 + 1,
            deployment=deployment,
        )
        runs.append(run)
        plans.append(step_rows)
        deployment.finished_at = moment
        deployment.elapsed_minutes = round((moment - deployment.started_at).total_seconds() / 60)
        deployment.hands_on_minutes = round(total["hands_on"] / 60)
        deployment.blocked_minutes = round(total["blocked"] / 60)
        deployment.blocked_cause = "; ".join(dict.fromkeys(causes))[:200]
        deployment.restarts = restarts
        deployment.manual_steps_done = total["manual"]
        deployment.trigger = (
            Deployment.Trigger.MANUAL if total["manual"] else Deployment.Trigger.ONE_BUTTON
        )
    DeploymentRun.objects.bulk_create(runs, batch_size=BATCH)
    Deployment.objects.bulk_update(
        deployments,
        [
            "finished_at",
            "elapsed_minutes",
            "hands_on_minutes",
            "blocked_minutes",
            "blocked_cause",
            "restarts",
            "manual_steps_done",
            "trigger",
        ],
        batch_size=BATCH,
    )

    run_steps = []
    for run, rows in zip(runs, plans, strict=True):
        for position, (step, mode, start, end, seconds, blocked, restarted) in enumerate(
            rows, start=1
        ):
            manual = mode in MANUAL_MODES
            run_steps.append(
                RunStep(
                    run=run,
                    process_step=step,
                    position=position,
                    title=step.title,
                    mode=mode,
                    how_to=step.how_to,
                    state=RunStep.State.DONE,
                    started_at=start,
                    finished_at=end,
                    acted_by=run.started_by,
                    acted_at=end,
                    hands_on_seconds=seconds if manual else 0,
                    waiting_seconds=0 if manual else seconds,
                    blocked_seconds=blocked,
                    blocks=1 if blocked else 0,
                    restarts_caused=restarted,
                )
            )
    RunStep.objects.bulk_create(run_steps, batch_size=BATCH)
    intervals, timeline = [], []
    for run_step in run_steps:
        # Every step above was built done, with both its times.
        started, finished = run_step.started_at, run_step.finished_at
        assert started is not None and finished is not None
        work_start = started
        if run_step.blocked_seconds:
            work_start = started + datetime.timedelta(seconds=run_step.blocked_seconds)
            intervals.append(
                RunStepInterval(
                    step=run_step,
                    kind=RunStepInterval.Kind.BLOCKED,
                    started_at=started,
                    ended_at=work_start,
                    started_by=run_step.acted_by,
                    ended_by=run_step.acted_by,
                )
            )
        intervals.append(
            RunStepInterval(
                step=run_step,
                kind=RunStepInterval.Kind.WORKING,
                started_at=work_start,
                ended_at=finished,
                started_by=run_step.acted_by,
                ended_by=run_step.acted_by,
            )
        )
        if events:
            for kind, moment in (("start", started), ("done", finished)):
                timeline.append(
                    RunEvent(
                        run=run_step.run,
                        step=run_step,
                        kind=kind,
                        actor=run_step.acted_by,
                        at=moment,
                    )
                )
    for run in runs:
        assert run.finished_at is not None  # every run above was built finished
        timeline.append(
            RunEvent(run=run, kind=RunEvent.Kind.STARTED, actor=run.started_by, at=run.started_at)
        )
        timeline.append(
            RunEvent(
                run=run,
                kind=RunEvent.Kind.ABORTED if run.abort_reason else RunEvent.Kind.FINISHED,
                actor=run.ended_by,
                at=run.finished_at,
                text=run.abort_reason or run.result,
            )
        )
    RunStepInterval.objects.bulk_create(intervals, batch_size=BATCH)
    RunEvent.objects.bulk_create(timeline, batch_size=BATCH)
    return len(runs)


def add_running_run(user: User, notes: list[tuple[str, str]]) -> DeploymentRun | None:
    """A run under way right now: a few steps done, one blocked, notes raised on the way."""
    begin = timezone.now() - datetime.timedelta(minutes=45)
    run = DeploymentRun.start(user, environment="staging", version="demo-rc1", at=begin)
    steps = list(run.steps.all())
    if len(steps) < 4:
        return run
    moment = begin
    for step in steps[:3]:
        run.step_action(step, "start", user, at=moment)
        moment += datetime.timedelta(minutes=8)
        run.step_action(step, "done", user, at=moment)
    run.step_action(steps[3], "start", user, at=moment)
    run.step_action(steps[3], "block", user, text="Waiting for QA sign-off", at=moment)
    if run.duty_week_id:
        for (kind, text), step in zip(notes, steps, strict=False):
            run.add_note(user, kind, text, step=step)
    return run
