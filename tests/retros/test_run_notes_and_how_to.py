"""Notes during a run become retro findings; how-to edits are kept as revisions."""

import pytest
from django.utils import timezone

from retros.models import Finding, ProcessStepRevision, Retrospective, RunRefused
from tests.factories import RetrospectiveFactory
from tests.retros.run_helpers import make_process, start_run


@pytest.fixture
def run(owner, duty_week):
    make_process("manual", "automated")
    return start_run(owner, timezone.now())


def test_a_note_becomes_a_finding_of_the_weeks_retro_created_as_a_draft(run, owner, duty_week):
    step = run.steps.first()
    finding = run.add_note(owner, "question", "  Why is this manual?  ", step=step)
    retro = Retrospective.objects.get(duty_week=duty_week)
    assert retro.status == "draft"
    assert (finding.retro, finding.kind, finding.text) == (retro, "question", "Why is this manual?")
    assert (finding.run, finding.run_step, finding.author) == (run, step, owner)
    assert finding.outcome == Finding.Outcome.PENDING


def test_a_note_joins_the_retro_that_already_exists(run, owner, duty_week):
    retro = RetrospectiveFactory(duty_week=duty_week, summary="Started")
    run.add_note(owner, "idea", "Automate the smoke test")
    run.add_note(owner, "pain", "Waited on approvals")
    assert list(retro.findings.values_list("kind", flat=True)) == ["idea", "pain"]
    assert Retrospective.objects.count() == 1


@pytest.mark.parametrize(("kind", "text"), [("well", "Nice"), ("pain", "   "), ("x", "y")])
def test_a_note_must_be_a_question_pain_or_idea_with_text(run, owner, kind, text):
    with pytest.raises(RunRefused):
        run.add_note(owner, kind, text)
    assert not Finding.objects.exists()


def test_a_run_in_a_week_without_duty_cannot_take_notes(owner):
    make_process("manual")
    run = start_run(owner)
    assert run.duty_week is None
    with pytest.raises(RunRefused, match="No unit was on duty"):
        run.add_note(owner, "pain", "Slow")


def test_a_how_to_edit_is_kept_as_a_revision_with_author_time_and_run(run, owner):
    from retros.models import revise_how_to

    process_step = run.steps.first().process_step
    revision = revise_how_to(process_step, "Run `make smoke`", owner, run=run)
    process_step.refresh_from_db()
    assert process_step.how_to == "Run `make smoke`"
    assert (revision.author, revision.run, revision.how_to) == (owner, run, "Run `make smoke`")
    assert revise_how_to(process_step, "Run `make smoke`", owner) is None
    assert ProcessStepRevision.objects.count() == 1


def test_editing_a_step_on_the_process_map_keeps_a_revision(client, staff):
    step = make_process("manual")[0]
    client.force_login(staff)
    response = client.post(
        f"/process/steps/{step.pk}/edit/",
        {"title": step.title, "how_to": "New words", "mode": "manual", "minutes": 5, "note": ""},
    )
    assert response.status_code == 302
    revision = ProcessStepRevision.objects.get()
    assert (revision.how_to, revision.author) == ("New words", staff)
    page = client.get(f"/process/steps/{step.pk}/edit/")
    assert b"History of its how-to" in page.content and b"New words" in page.content


def test_the_retro_shows_which_run_a_note_came_from(client, run, owner, duty_week):
    step = run.steps.last()
    finding = run.add_note(owner, "idea", "Script the smoke test", step=step)
    client.force_login(owner)
    page = client.get(finding.retro.get_absolute_url()).content.decode()
    assert "Script the smoke test" in page
    assert f"from deployment run #{run.pk}" in page


def test_the_how_to_of_an_ended_run_is_not_edited_in_place(client, staff, run):
    step = run.steps.first()
    run.abort(staff, "Stopped")
    client.force_login(staff)
    response = client.post(
        f"/runs/steps/{step.pk}/how-to/", {"how_to": "Late words"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 409
    assert "improve the how-to on the process map" in response.content.decode()
    assert not ProcessStepRevision.objects.exists()
