"""The retro page: starting it, its header form, permissions and the revision record."""

import datetime

import pytest
from django.db import IntegrityError
from django.urls import reverse

from retros.models import RetroRevision, Retrospective
from tests.factories import DeploymentFactory, DutyWeekFactory, RetrospectiveFactory, UserFactory


@pytest.fixture
def retro(duty_week, owner):
    retro = RetrospectiveFactory(duty_week=duty_week, facilitator=owner)
    retro.attendees.add(owner, duty_week.qa_person, duty_week.platform_person)
    return retro


def test_starting_this_weeks_retro_prefills_it_from_the_duty_week(owner_client, owner, duty_week):
    response = owner_client.post(reverse("retros:retro_start"))

    retro = Retrospective.objects.get()
    assert response["Location"] == retro.get_absolute_url()
    assert retro.duty_week == duty_week
    assert retro.facilitator == owner
    assert set(retro.attendees.all()) == {owner, duty_week.qa_person, duty_week.platform_person}


def test_a_second_start_leads_to_the_existing_retro(owner_client, client, teammate, retro):
    client.force_login(teammate)

    response = client.post(reverse("retros:retro_start"))

    assert response["Location"] == retro.get_absolute_url()
    assert Retrospective.objects.count() == 1


def test_the_database_allows_one_retro_per_duty_week(retro):
    with pytest.raises(IntegrityError, match="duty_week_id"):
        Retrospective.objects.create(duty_week=retro.duty_week)


def test_a_past_week_without_a_retro_can_be_started(owner_client, duty_week):
    last_week = DutyWeekFactory(
        week_start=duty_week.week_start - datetime.timedelta(weeks=1), unit=duty_week.unit
    )

    owner_client.post(reverse("retros:retro_start"), {"week": last_week.pk})

    assert Retrospective.objects.get().duty_week == last_week


def test_an_outsider_cannot_start_a_retro(outsider_client, duty_week):
    assert outsider_client.post(reverse("retros:retro_start")).status_code == 403
    assert not Retrospective.objects.exists()


def test_the_page_shows_the_weeks_deployments_with_their_figures(outsider_client, retro):
    DeploymentFactory(hands_on_minutes=33, blocked_minutes=7)

    response = outsider_client.get(retro.get_absolute_url())

    assert response.status_code == 200
    assert "1 deployment, 45 min elapsed" in response.text
    assert "33 min hands-on, 7 min blocked" in response.text


def test_the_carry_over_review_comes_first_as_a_lazy_fragment_with_a_link(outsider_client, retro):
    response = outsider_client.get(retro.get_absolute_url())

    url = reverse("triage:carry_over", args=[retro.pk])
    assert f'hx-get="{url}" hx-trigger="load"' in response.text
    assert f'<a href="{url}">' in response.text
    assert response.text.index("Review of open improvements") < response.text.index(
        "This week's deployments"
    )


@pytest.mark.parametrize("who", ["owner", "teammate"])
def test_the_unit_saves_ratings_and_summary(client, request, retro, who):
    client.force_login(request.getfixturevalue(who))

    response = client.post(
        retro.get_absolute_url(),
        {
            "facilitator": retro.facilitator_id,
            "attendees": list(retro.attendees.values_list("pk", flat=True)),
            "pain_rating": "4",
            "confidence_rating": "2",
            "summary": "Staging was down twice.",
        },
    )

    assert response.status_code == 302
    retro.refresh_from_db()
    assert (retro.pain_rating, retro.confidence_rating) == (4, 2)
    assert retro.summary == "Staging was down twice."
    assert not RetroRevision.objects.exists()


def test_the_qa_shadow_and_platform_member_write_too(client, retro):
    for person in (retro.duty_week.qa_person, retro.duty_week.platform_person):
        client.force_login(person)
        response = client.post(retro.get_absolute_url(), {"summary": f"by {person}"})
        assert response.status_code == 302
    retro.refresh_from_db()
    assert retro.summary == f"by {retro.duty_week.platform_person}"


def test_an_outsider_reads_but_cannot_save(outsider_client, retro):
    page = outsider_client.get(retro.get_absolute_url())
    response = outsider_client.post(retro.get_absolute_url(), {"summary": "sneaky"})

    assert page.status_code == 200
    assert 'id="retro-form"' not in page.text
    assert response.status_code == 403
    retro.refresh_from_db()
    assert retro.summary == ""


def test_a_bad_rating_re_renders_with_a_message_and_keeps_the_summary(owner_client, retro):
    response = owner_client.post(
        retro.get_absolute_url(), {"pain_rating": "9", "summary": "Typed with care"}
    )

    assert response.status_code == 400
    assert "Select a valid choice. 9 is not one of the available choices." in response.text
    assert "Typed with care</textarea>" in response.text
    retro.refresh_from_db()
    assert retro.summary == ""


def test_htmx_autosave_answers_with_a_status_and_the_missing_attendees(owner_client, retro):
    response = owner_client.post(
        retro.get_absolute_url(), {"summary": "draft", "attendees": []}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert "Saved" in response.text
    assert 'id="missing-attendees" hx-swap-oob="true"' in response.text
    assert "someone from Payments" in response.text


def test_missing_required_attendees_are_named_on_the_page(owner_client, retro, duty_week):
    retro.attendees.remove(duty_week.qa_person)

    response = owner_client.get(retro.get_absolute_url())

    qa_name = duty_week.qa_person.get_full_name()
    assert "Missing required attendees" in response.text
    assert f"{qa_name} (QA shadow)" in response.text


def test_submit_with_someone_missing_needs_confirmation(owner_client, retro, duty_week):
    retro.attendees.remove(duty_week.platform_person)

    owner_client.post(reverse("retros:retro_submit", args=[retro.pk]))
    retro.refresh_from_db()
    assert not retro.is_submitted

    owner_client.post(reverse("retros:retro_submit", args=[retro.pk]), {"confirm_missing": "1"})
    retro.refresh_from_db()
    assert retro.is_submitted


@pytest.mark.parametrize("who", ["outsider"])
def test_an_outsider_cannot_submit(client, request, retro, who):
    client.force_login(request.getfixturevalue(who))

    assert client.post(reverse("retros:retro_submit", args=[retro.pk])).status_code == 403
    retro.refresh_from_db()
    assert not retro.is_submitted


def test_after_submit_a_teammate_reads_only(client, teammate, retro):
    retro.submit()
    client.force_login(teammate)

    response = client.post(retro.get_absolute_url(), {"summary": "late edit"})

    assert response.status_code == 403


def test_after_submit_the_facilitators_edits_are_recorded(owner_client, owner, retro):
    retro.submit()

    owner_client.post(
        retro.get_absolute_url(),
        {
            "facilitator": owner.pk,
            "attendees": list(retro.attendees.values_list("pk", flat=True)),
            "pain_rating": "3",
            "summary": "Corrected",
        },
    )

    revision = RetroRevision.objects.get()
    assert revision.user == owner
    assert revision.changes["summary"] == ["", "Corrected"]
    assert revision.changes["pain_rating"] == [None, 3]
    assert "Edits after submit" in owner_client.get(retro.get_absolute_url()).text


def test_after_submit_staff_still_edit(client, staff, retro):
    retro.submit()
    client.force_login(staff)

    response = client.post(retro.get_absolute_url(), {"summary": "Staff note"})

    assert response.status_code == 302
    assert RetroRevision.objects.get().user == staff


def test_attendee_choices_are_the_people_who_could_be_there(owner_client, retro):
    UserFactory(username="faraway")

    response = owner_client.get(retro.get_absolute_url())

    assert "teammate" in response.text
    assert "faraway" not in response.text


def test_an_autosave_arriving_after_submit_keeps_the_retro_submitted(owner_client, retro):
    retro.submit()

    owner_client.post(
        retro.get_absolute_url(), {"summary": "late keystroke"}, HTTP_HX_REQUEST="true"
    )

    retro.refresh_from_db()
    assert retro.is_submitted
    assert retro.summary == "late keystroke"
