"""Two people pressing the same button at once leave one consistent state (PostgreSQL)."""

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from retros.models import DeploymentRun, RunEvent, RunStep, RunStepInterval
from tests.factories import DutyWeekFactory, UnitFactory, UserFactory
from tests.retros.run_helpers import do_step, make_process
from tests.threads import at_once

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL"
)


@pytest.fixture
def crew(db):
    people = [UserFactory(username=f"dev{n}") for n in range(4)]
    DutyWeekFactory(unit=UnitFactory(name="Checkout", members=people))
    make_process("manual", "automated", "manual")
    run = DeploymentRun.start(people[0], environment="production", at=timezone.now())
    clients = []
    for person in people:
        client = Client()
        client.force_login(person)
        clients.append(client)
    return run, clients


def post(client, url, data):
    return lambda: client.post(url, data, headers={"HX-Request": "true"})


@pytest.mark.django_db(transaction=True)
def test_four_people_pressing_start_at_once_start_the_step_once(crew):
    run, clients = crew
    step = run.steps.first()
    url = reverse("runs:run_step_act", args=[step.pk])
    answers = at_once([post(c, url, {"action": "start"}) for c in clients])
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [200, 409, 409, 409]
    refusals = [a.content.decode() for a in answers if a.status_code == 409]
    assert all("already in progress" in text and "did that at" in text for text in refusals)
    assert RunEvent.objects.filter(step=step, kind="start").count() == 1
    assert RunStepInterval.objects.filter(step=step).count() == 1
    assert DeploymentRun.objects.get(pk=run.pk).revision == 1


@pytest.mark.django_db(transaction=True)
def test_done_and_restart_at_once_leave_one_consistent_state(crew):
    run, clients = crew
    first, second, _ = run.steps.all()
    do_step(run, first, None)
    run.step_action(second, "start", None)
    answers = at_once(
        [
            post(clients[0], reverse("runs:run_step_act", args=[second.pk]), {"action": "done"}),
            post(clients[1], reverse("runs:run_restart", args=[run.pk]), {"step": first.pk}),
            post(clients[2], reverse("runs:run_abort", args=[run.pk]), {"reason": "Red alert"}),
            post(clients[3], reverse("runs:run_step_act", args=[second.pk]), {"action": "done"}),
        ]
    )
    assert all(answer.status_code in (200, 409) for answer in answers), answers
    run.refresh_from_db()
    assert run.state == "aborted", "the abort never loses: nothing else can refuse it"
    steps = RunStep.objects.filter(run=run)
    assert not RunStepInterval.objects.filter(step__run=run, ended_at__isnull=True).exists()
    assert RunEvent.objects.filter(run=run, kind="done", step=second).count() <= 1
    assert run.revision == sum(a.status_code == 200 for a in answers) + 3
    assert steps.count() == 3


@pytest.mark.django_db(transaction=True)
def test_two_finishes_at_once_write_one_deployment(crew):
    run, clients = crew
    url = reverse("runs:run_finish", args=[run.pk])
    answers = at_once([post(c, url, {"result": "failure"}) for c in clients[:2]])
    assert sorted(a.status_code for a in answers) == [200, 409]
    from retros.models import Deployment

    assert Deployment.objects.count() == 1
    assert DeploymentRun.objects.get(pk=run.pk).deployment == Deployment.objects.get()


@pytest.mark.django_db(transaction=True)
def test_two_starts_for_one_pipeline_at_once_start_one_run(crew):
    run, clients = crew
    data = {"environment": "production", "pipeline_id": "pipeline-77"}
    answers = at_once([lambda c=c: c.post(reverse("runs:run_start"), data) for c in clients[:3]])
    assert sorted(a.status_code for a in answers) == [302, 400, 400]
    refusals = [a.content.decode() for a in answers if a.status_code == 400]
    assert all("for this pipeline" in text for text in refusals)
    assert DeploymentRun.objects.filter(pipeline_id="pipeline-77").count() == 1
