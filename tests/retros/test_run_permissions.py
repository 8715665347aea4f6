"""Who may act on a run: the unit on duty, its QA shadow and platform member, and staff.

Everyone logged in may watch. Every write is checked in the view, so a refused POST
answers 403 and writes nothing.
"""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from retros.models import DeploymentRun, Finding, ProcessStepRevision, RunEvent, RunStep
from tests.factories import UnitFactory, UserFactory
from tests.retros.run_helpers import make_process, start_run


@pytest.fixture
def run(owner, duty_week):
    make_process("manual", "automated")
    return start_run(owner, timezone.now())


@pytest.fixture
def people(owner, teammate, outsider, staff, duty_week):
    other_unit_member = UserFactory(username="elsewhere")
    UnitFactory(name="Search", members=[other_unit_member])
    return {
        "owner": owner,
        "teammate": teammate,
        "qa shadow": duty_week.qa_person,
        "platform member": duty_week.platform_person,
        "staff": staff,
        "outsider": outsider,
        "member of another unit": other_unit_member,
    }


ALLOWED = ["owner", "teammate", "qa shadow", "platform member", "staff"]
REFUSED = ["outsider", "member of another unit"]


def writes(run):
    first, second = run.steps.all()
    return {
        "start a run": (reverse("runs:run_start"), {"environment": "staging", "version": "v2"}),
        "start a step": (reverse("runs:run_step_act", args=[first.pk]), {"action": "start"}),
        "skip a step": (
            reverse("runs:run_step_act", args=[second.pk]),
            {"action": "skip", "text": "Covered"},
        ),
        "note": (reverse("runs:run_note", args=[run.pk]), {"kind": "pain", "text": "Slow"}),
        "abort": (reverse("runs:run_abort", args=[run.pk]), {"reason": "Wrong build"}),
    }


def footprint():
    return (
        DeploymentRun.objects.count(),
        RunEvent.objects.count(),
        Finding.objects.count(),
        list(RunStep.objects.order_by("pk").values_list("state", flat=True)),
        list(DeploymentRun.objects.order_by("pk").values_list("state", "revision")),
    )


WRITE_NAMES = ["start a run", "start a step", "skip a step", "note", "abort"]


@pytest.mark.parametrize("role", ALLOWED + REFUSED)
@pytest.mark.parametrize("write", WRITE_NAMES)
def test_each_write_is_allowed_to_the_people_on_duty_and_refused_to_others(
    run, people, role, write
):
    client = Client()
    client.force_login(people[role])
    url, data = writes(run)[write]
    before = footprint()
    response = client.post(url, data)
    if role in ALLOWED:
        assert response.status_code == 302, response.content[:300]
        assert footprint() != before
    else:
        assert response.status_code == 403
        assert footprint() == before


@pytest.mark.parametrize("role", ALLOWED + REFUSED)
def test_restart_and_finish_follow_the_same_rule(run, people, role):
    first = run.steps.first()
    run.step_action(first, "start", run.started_by)
    client = Client()
    client.force_login(people[role])
    restart = client.post(reverse("runs:run_restart", args=[run.pk]), {"step": first.pk})
    finish = client.post(reverse("runs:run_finish", args=[run.pk]), {"result": "failure"})
    run.refresh_from_db()
    if role in ALLOWED:
        assert (restart.status_code, finish.status_code) == (302, 302)
        assert (run.restarts, run.state) == (1, "finished")
    else:
        assert (restart.status_code, finish.status_code) == (403, 403)
        assert (run.restarts, run.state) == (0, "running")


@pytest.mark.parametrize("role", ALLOWED + REFUSED)
def test_everyone_logged_in_may_watch(run, people, role):
    client = Client()
    client.force_login(people[role])
    page = client.get(reverse("runs:run_detail", args=[run.pk]))
    assert page.status_code == 200
    can_press = b'name="action" value="start"' in page.content
    assert can_press == (role in ALLOWED)
    assert client.get(reverse("runs:run_live", args=[run.pk])).status_code == 200
    assert client.get(reverse("runs:run_list")).status_code == 200


def test_anonymous_visitors_are_sent_to_log_in(run):
    response = Client().get(reverse("runs:run_detail", args=[run.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_how_to_edits_need_both_a_place_on_the_run_and_the_right_to_edit_the_step(
    run, people, qa_member, duty_week
):
    step = run.steps.first()
    url = reverse("runs:run_step_how_to", args=[step.pk])
    # A unit member on duty, but the step belongs to no unit and they are not QA or platform.
    client = Client()
    client.force_login(people["owner"])
    assert client.post(url, {"how_to": "Mine"}).status_code == 403
    # QA, but not on this run's duty week.
    client.force_login(qa_member)
    assert client.post(url, {"how_to": "Theirs"}).status_code == 403
    assert not ProcessStepRevision.objects.exists()
    # The QA shadow of the week, once in a QA unit.
    duty_week.qa_person.units.add(qa_member.units.get())
    client.force_login(duty_week.qa_person)
    assert client.post(url, {"how_to": "Better words"}).status_code == 302
    assert ProcessStepRevision.objects.get().author == duty_week.qa_person
    # The unit owning the step may improve it as well.
    step.process_step.unit = duty_week.unit
    step.process_step.save()
    client.force_login(people["teammate"])
    assert client.post(url, {"how_to": "Even better"}).status_code == 302
    step.refresh_from_db()
    assert step.how_to == "Even better"
