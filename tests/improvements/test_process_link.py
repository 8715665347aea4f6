import pytest
from django.urls import reverse

from improvements.models import Event
from retros.models import ProcessStep, ProcessStepChange
from tests.factories import ImprovementFactory, ProcessStepFactory


@pytest.fixture
def step(db):
    return ProcessStepFactory(title="Run manual regression", minutes=60)


@pytest.fixture
def done_card(columns, step):
    card = ImprovementFactory(title="Automate the regression suite", target_step=step)
    card.move_to(columns["Done"])
    return card


def test_it_lists_done_improvements_whose_step_is_still_manual(outsider_client, done_card, columns):
    ImprovementFactory(title="Still in progress", target_step=done_card.target_step)
    ImprovementFactory(title="No step")
    response = outsider_client.get(reverse("process_link:pending_step_changes"))
    body = response.content.decode()
    assert response.status_code == 200
    assert [card.title for card in response.context["improvements"]] == [
        "Automate the regression suite"
    ]
    assert "Still in progress" not in body
    # Outsiders read it but get no buttons.
    assert reverse("process_link:improvement_step_change", args=[done_card.pk]) not in body


def test_qa_marks_the_step_automated_in_one_click(qa_client, qa_member, done_card, step):
    response = qa_client.post(
        reverse("process_link:improvement_step_change", args=[done_card.pk]), {"mode": "automated"}
    )
    assert response.status_code == 302
    step.refresh_from_db()
    assert step.mode == ProcessStep.Mode.AUTOMATED
    change = ProcessStepChange.objects.get()
    assert (change.old_mode, change.new_mode, change.changed_by) == (
        "manual",
        "automated",
        qa_member,
    )
    assert f"Improvement #{done_card.pk}" in change.note
    event = Event.objects.get(kind=Event.Kind.STEP_CHANGED)
    assert (event.improvement, event.step_change, event.actor) == (
        done_card,
        change,
        qa_member,
    )
    assert not qa_client.get(reverse("process_link:pending_step_changes")).context["improvements"]


def test_the_htmx_answer_is_the_updated_offer(qa_client, done_card):
    response = qa_client.post(
        reverse("process_link:improvement_step_change", args=[done_card.pk]),
        {"mode": "dropped"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert f'id="step-offer-{done_card.pk}"' in body
    assert "is now dropped" in body
    assert "<html" not in body


def test_the_offer_fragment_shows_buttons_only_when_done_and_manual(qa_client, columns, step):
    card = ImprovementFactory(target_step=step)
    url = reverse("process_link:improvement_step_offer", args=[card.pk])
    assert "Mark step" not in qa_client.get(url).content.decode()
    card.move_to(columns["Done"])
    assert "Mark step automated" in qa_client.get(url).content.decode()


def test_marking_the_same_mode_twice_records_one_change(qa_client, done_card):
    url = reverse("process_link:improvement_step_change", args=[done_card.pk])
    qa_client.post(url, {"mode": "automated"})
    qa_client.post(url, {"mode": "automated"})
    assert ProcessStepChange.objects.count() == 1
    assert Event.objects.filter(kind=Event.Kind.STEP_CHANGED).count() == 1


@pytest.mark.parametrize("user_fixture", ["outsider", "owner"])
def test_only_qa_platform_and_staff_may_change_the_step(
    client, done_card, step, user_fixture, request, unit
):
    client.force_login(request.getfixturevalue(user_fixture))
    response = client.post(
        reverse("process_link:improvement_step_change", args=[done_card.pk]), {"mode": "automated"}
    )
    assert response.status_code == 403
    step.refresh_from_db()
    assert step.mode == ProcessStep.Mode.MANUAL


def test_it_refuses_a_mode_it_does_not_offer(qa_client, done_card):
    url = reverse("process_link:improvement_step_change", args=[done_card.pk])
    assert qa_client.post(url, {"mode": "manual"}).status_code == 400
    assert qa_client.post(url, {"mode": "bogus"}).status_code == 400
    assert not ProcessStepChange.objects.exists()


def test_it_refuses_an_improvement_without_a_step(qa_client, columns):
    card = ImprovementFactory()
    response = qa_client.post(
        reverse("process_link:improvement_step_change", args=[card.pk]), {"mode": "automated"}
    )
    assert response.status_code == 400


def test_it_only_redirects_to_this_site(qa_client, done_card):
    response = qa_client.post(
        reverse("process_link:improvement_step_change", args=[done_card.pk]),
        {"mode": "automated", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("process_link:pending_step_changes")


def test_the_process_pages_link_a_change_to_the_improvement_that_made_it(
    qa_client, qa_member, done_card, step
):
    qa_client.post(
        reverse("process_link:improvement_step_change", args=[done_card.pk]), {"mode": "automated"}
    )
    step.refresh_from_db()
    step.change_mode(ProcessStep.Mode.MANUAL, user=qa_member, note="Back to hand work")
    link = f'<a href="{done_card.get_absolute_url()}">Improvement #{done_card.pk} done'
    for url in (
        reverse("deployments:process_map"),
        reverse("deployments:process_step_edit", args=[step.pk]),
    ):
        body = qa_client.get(url).content.decode()
        assert link in body
        assert "— Back to hand work" in body
