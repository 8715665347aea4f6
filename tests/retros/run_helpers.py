"""Helpers for deployment run tests: a process to run, a run started at a given moment, steps
done in it, and a step's button pressed on the run page."""

import datetime

from django.urls import reverse

from retros.models import DeploymentRun, ProcessStep
from tests.factories import ProcessStepFactory

UTC = datetime.UTC


def make_process(*modes: str) -> list[ProcessStep]:
    """Process steps in this order with these modes (manual, semi, automated, dropped)."""
    return [
        ProcessStepFactory(title=f"{mode} step {n}", mode=mode, position=n, how_to=f"Do {n}")
        for n, mode in enumerate(modes, start=1)
    ]


def at(hour: int, minute: int = 0, second: int = 0, day: int = 2) -> datetime.datetime:
    """An aware UTC moment on 2026-03-<day> (a Monday when day=2)."""
    return datetime.datetime(2026, 3, day, hour, minute, second, tzinfo=UTC)


def start_run(user, when=None, **fields) -> DeploymentRun:
    fields.setdefault("environment", "production")
    return DeploymentRun.start(user, at=when or at(10), **fields)


def do_step(run, step, user, started=None, finished=None) -> None:
    """Start `step` and mark it done, at those moments (now, when not given)."""
    run.step_action(step, "start", user, at=started)
    run.step_action(step, "done", user, at=finished)


def press(client, step, action: str, **options):
    """Press a step's button on the run page: POST `action` (start, done, block, skip ...)."""
    return client.post(reverse("runs:run_step_act", args=[step.pk]), {"action": action}, **options)
