"""The carry-over review on a retro: open improvements this unit raised earlier or owns."""

import datetime

import pytest
from django.urls import reverse

from improvements.models import Column, Comment, Event, FindingLink
from tests.factories import (
    DutyWeekFactory,
    FindingFactory,
    ImprovementFactory,
    RetrospectiveFactory,
    UnitFactory,
)


@pytest.fixture
def retro(duty_week, owner):
    return RetrospectiveFactory(duty_week=duty_week, facilitator=owner)


def add_note(client, retro, card, note, **headers):
    """Post a carry-over note on `card` from the retro page."""
    url = reverse("triage:carry_over_note", args=[retro.pk, card.pk])
    return client.post(url, {"note": note}, **headers)


@pytest.fixture
def earlier_retro(duty_week):
    week = DutyWeekFactory(
        week_start=duty_week.week_start - datetime.timedelta(weeks=4), unit=duty_week.unit
    )
    return RetrospectiveFactory(duty_week=week)


def test_it_lists_what_the_unit_raised_earlier_or_owns_and_nothing_else(
    owner_client, retro, earlier_retro, unit
):
    raised = ImprovementFactory(title="Raised earlier")
    FindingLink.objects.create(finding=FindingFactory(retro=earlier_retro), improvement=raised)
    ImprovementFactory(title="Owned by us", unit=unit)
    ImprovementFactory(title="Someone else's", unit=UnitFactory())
    ImprovementFactory(title="Done already", unit=unit, column=Column.objects.get(state="done"))

    response = owner_client.get(
        reverse("triage:carry_over", args=[retro.pk]), HTTP_HX_REQUEST="true"
    )

    assert "Raised earlier" in response.text
    assert "Owned by us" in response.text
    assert "Someone else" not in response.text
    assert "Done already" not in response.text
    assert "<html" not in response.text


def test_without_javascript_it_is_a_page_of_its_own(outsider_client, retro, unit):
    ImprovementFactory(title="Owned by us", unit=unit)

    response = outsider_client.get(reverse("triage:carry_over", args=[retro.pk]))

    assert "<html" in response.text
    assert "Owned by us" in response.text
    assert "Save note" not in response.text


def test_a_progress_note_is_saved_as_a_comment_and_an_event(owner_client, owner, retro, unit):
    card = ImprovementFactory(unit=unit)

    response = add_note(
        owner_client, retro, card, "  Script half written  ", HTTP_HX_REQUEST="true"
    )

    comment = Comment.objects.get()
    assert (comment.improvement, comment.author, comment.body) == (
        card,
        owner,
        "Script half written",
    )
    event = Event.objects.get(kind="commented")
    assert event.data["retro"] == retro.pk
    assert "Noted: Script half written" in response.text


def test_an_empty_note_is_refused(owner_client, retro, unit):
    card = ImprovementFactory(unit=unit)

    response = add_note(owner_client, retro, card, "")

    assert response.status_code == 400
    assert not Comment.objects.exists()


def test_an_outsider_cannot_add_notes(outsider_client, retro, unit):
    card = ImprovementFactory(unit=unit)

    response = add_note(outsider_client, retro, card, "hi")

    assert response.status_code == 403
    assert not Comment.objects.exists()


def test_a_card_outside_the_carry_over_cannot_be_noted_through_it(owner_client, retro):
    card = ImprovementFactory(unit=UnitFactory())

    response = add_note(owner_client, retro, card, "hi")

    assert response.status_code == 404


def test_improvements_raised_by_this_very_retro_are_not_carried_over(
    owner_client, owner, retro, unit
):
    from improvements.operations import promote_finding

    promote_finding(FindingFactory(retro=retro, text="Raised just now"), owner, unit=unit)

    response = owner_client.get(
        reverse("triage:carry_over", args=[retro.pk]), HTTP_HX_REQUEST="true"
    )

    assert "Raised just now" not in response.text
