"""The seeded run history: one run per duty week, consistent with its deployment, and steps
that get faster once the improvement targeting them is done."""

import datetime
import random
import statistics

import pytest
from django.core.management import call_command
from django.utils import timezone

from improvements.reporting.run_history import add_runs
from retros.models import Deployment, DeploymentRun, DutyWeek, RunStep
from tests.factories import DeploymentFactory, ImprovementFactory
from tests.retros.run_helpers import make_process


@pytest.mark.django_db
def test_seed_scale_runs_the_first_deployment_of_every_week():
    call_command("seed_scale", years=1, scale=0.02, until=datetime.date(2026, 3, 4), verbosity=0)
    runs = DeploymentRun.objects.select_related("deployment")
    assert runs.count() == DutyWeek.objects.filter(deployments__isnull=False).distinct().count()
    for run in runs[:20]:
        deployment = run.deployment
        assert (deployment.started_at, deployment.finished_at) == (run.started_at, run.finished_at)
        assert deployment.hands_on_minutes == round(
            sum(run.steps.values_list("hands_on_seconds", flat=True)) / 60
        )
        assert run.steps.exists()
        assert not run.steps.exclude(state=RunStep.State.DONE).exists()


def test_a_step_gets_faster_once_the_improvement_targeting_it_is_done(db, columns):
    slow, other = make_process("manual", "manual")
    slow.minutes = other.minutes = 30
    slow.save(), other.save()
    done_at = timezone.now() - datetime.timedelta(days=30)
    ImprovementFactory(target_step=slow, column=columns["Done"], done_at=done_at)
    deployments = [
        DeploymentFactory(started_at=done_at + datetime.timedelta(days=day))
        for day in range(-20, 20)
    ]
    assert add_runs(random.Random(1), deployments) == 40

    def median_minutes(step, before: bool):
        seconds = RunStep.objects.filter(
            process_step=step,
            **{"run__started_at__lt" if before else "run__started_at__gte": done_at},
        ).values_list("hands_on_seconds", flat=True)
        return statistics.median(seconds) / 60

    assert median_minutes(slow, before=False) < median_minutes(slow, before=True) * 0.6
    assert median_minutes(other, before=False) > median_minutes(other, before=True) * 0.7
    assert Deployment.objects.filter(run__isnull=True).count() == 0


@pytest.mark.django_db
def test_the_demo_has_past_runs_and_one_under_way(settings):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    finished = DeploymentRun.objects.filter(state="finished")
    assert finished.count() > 10
    assert all(run.deployment_id for run in finished)
    running = DeploymentRun.objects.running().get()
    states = list(running.steps.values_list("state", flat=True))
    assert states[:4] == ["done", "done", "done", "blocked"]
    assert running.notes.count() == 2
