"""Triage of a submitted retro: new improvement, link to an existing one, or no action."""

import datetime

import pytest
from django.urls import reverse

from improvements.models import Category, Column, Event, FindingLink, Improvement
from retros.models import Finding
from tests.factories import (
    DutyWeekFactory,
    FindingFactory,
    ImprovementFactory,
    RetrospectiveFactory,
    UserFactory,
)


@pytest.fixture
def retro(duty_week, owner):
    retro = RetrospectiveFactory(duty_week=duty_week, facilitator=owner)
    retro.submit()
    return retro


@pytest.fixture
def pain(retro):
    return FindingFactory(retro=retro, kind=Finding.Kind.PAIN, text="Flaky checkout e2e test")


def test_the_triage_page_prefills_title_and_category(owner_client, pain):
    response = owner_client.get(reverse("triage:retro_triage", args=[pain.retro_id]))

    assert 'value="Flaky checkout e2e test"' in response.text
    flaky = Category.objects.get(slug="flaky-e2e")
    assert f'<option value="{flaky.pk}" selected>' in response.text
    assert "1 of 1 still to triage" in response.text
    assert 'value="new" checked' in response.text


def test_went_well_and_questions_are_not_triaged(owner_client, retro):
    FindingFactory(retro=retro, kind=Finding.Kind.WENT_WELL, text="Fast rollback")

    response = owner_client.get(reverse("triage:retro_triage", args=[retro.pk]))

    assert "Fast rollback" not in response.text


def test_a_pain_becomes_a_new_improvement_with_the_chosen_owner(owner_client, owner, unit, pain):
    assignee = UserFactory(username="carol")
    unit.members.add(assignee)
    category = Category.objects.get(slug="tooling")

    response = owner_client.post(
        reverse("triage:finding_promote", args=[pain.pk]),
        {
            "title": "Stabilise checkout test",
            "category": category.pk,
            "unit": unit.pk,
            "assignee": assignee.pk,
        },
    )

    card = Improvement.objects.get()
    assert response.status_code == 302
    assert (card.title, card.category, card.unit, card.assignee) == (
        "Stabilise checkout test",
        category,
        unit,
        assignee,
    )
    pain.refresh_from_db()
    assert pain.outcome == Finding.Outcome.IMPROVEMENT
    assert set(card.events.values_list("kind", flat=True)) == {"created", "linked"}


def test_a_missing_title_re_renders_with_the_other_choices_kept(owner_client, unit, pain):
    category = Category.objects.get(slug="tooling")

    response = owner_client.post(
        reverse("triage:finding_promote", args=[pain.pk]),
        {"title": "  ", "category": category.pk, "unit": unit.pk},
    )

    assert response.status_code == 400
    assert (
        "This field is required." in response.text
        or "Give the improvement a title." in response.text
    )
    assert f'<option value="{category.pk}" selected>' in response.text
    assert not Improvement.objects.exists()


def test_promoting_on_a_board_without_columns_is_refused_and_keeps_the_finding_waiting(
    owner_client, pain
):
    # An admin may delete every column while no card is in one; triage must say so, not 500.
    Column.objects.all().delete()
    category = Category.objects.get(slug="tooling")

    response = owner_client.post(
        reverse("triage:finding_promote", args=[pain.pk]),
        {"title": "Stabilise checkout test", "category": category.pk},
    )

    assert response.status_code == 409
    assert "The board has no columns to put a card in yet" in response.text
    assert 'value="Stabilise checkout test"' in response.text
    assert not Improvement.objects.exists()
    pain.refresh_from_db()
    assert pain.outcome == Finding.Outcome.PENDING
    assert not FindingLink.objects.exists()


def test_linking_from_another_retro_raises_the_recurrence(owner_client, unit, pain):
    card = ImprovementFactory(title="Stabilise checkout test")
    earlier_retro = RetrospectiveFactory(
        duty_week=DutyWeekFactory(
            week_start=pain.retro.duty_week.week_start - datetime.timedelta(weeks=3), unit=unit
        )
    )
    FindingLink.objects.create(finding=FindingFactory(retro=earlier_retro), improvement=card)

    response = owner_client.post(
        reverse("triage:finding_link", args=[pain.pk]), {"improvement": card.pk}
    )

    assert response.status_code == 302
    assert Improvement.objects.with_recurrence().get(pk=card.pk).recurrence == 2
    pain.refresh_from_db()
    assert pain.outcome == Finding.Outcome.IMPROVEMENT
    assert Event.objects.filter(improvement=card, kind="linked").count() == 1


def test_linking_a_second_finding_of_the_same_retro_does_not_raise_recurrence(
    owner_client, retro, pain
):
    card = ImprovementFactory()
    other = FindingFactory(retro=retro, kind=Finding.Kind.IDEA)

    owner_client.post(reverse("triage:finding_link", args=[pain.pk]), {"improvement": card.pk})
    owner_client.post(reverse("triage:finding_link", args=[other.pk]), {"improvement": card.pk})

    assert Improvement.objects.with_recurrence().get(pk=card.pk).recurrence == 1
    assert card.finding_links.count() == 2


def test_linking_to_an_archived_improvement_is_refused_with_a_reason(owner_client, pain):
    from django.utils import timezone

    card = ImprovementFactory(archived_at=timezone.now())

    response = owner_client.post(
        reverse("triage:finding_link", args=[pain.pk]), {"improvement": card.pk}
    )

    assert response.status_code == 400
    assert "archived or gone" in response.text
    assert not FindingLink.objects.exists()


def test_no_action_needs_a_reason(owner_client, pain):
    refused = owner_client.post(
        reverse("triage:finding_no_action", args=[pain.pk]), {"reason": " "}
    )
    pain.refresh_from_db()
    assert refused.status_code == 400
    assert pain.outcome == Finding.Outcome.PENDING

    owner_client.post(
        reverse("triage:finding_no_action", args=[pain.pk]), {"reason": "Vendor fixes it"}
    )
    pain.refresh_from_db()
    assert (pain.outcome, pain.no_action_reason) == ("no_action", "Vendor fixes it")


def test_a_finding_is_triaged_once(owner_client, pain):
    owner_client.post(reverse("triage:finding_no_action", args=[pain.pk]), {"reason": "Not ours"})
    category = Category.objects.first()

    owner_client.post(
        reverse("triage:finding_promote", args=[pain.pk]),
        {"title": "Late", "category": category.pk},
    )

    assert not Improvement.objects.exists()
    pain.refresh_from_db()
    assert pain.outcome == Finding.Outcome.NO_ACTION


def test_undo_puts_the_finding_back_and_keeps_the_card(owner_client, pain):
    card = ImprovementFactory()
    owner_client.post(reverse("triage:finding_link", args=[pain.pk]), {"improvement": card.pk})

    owner_client.post(reverse("triage:finding_reopen", args=[pain.pk]))

    pain.refresh_from_db()
    assert pain.outcome == Finding.Outcome.PENDING
    assert Improvement.objects.filter(pk=card.pk).exists()
    assert not FindingLink.objects.exists()


def test_a_draft_retro_is_not_triaged_yet(owner_client, duty_week):
    draft = RetrospectiveFactory(
        duty_week=DutyWeekFactory(
            week_start=duty_week.week_start - datetime.timedelta(weeks=1), unit=duty_week.unit
        )
    )
    finding = FindingFactory(retro=draft)

    owner_client.post(reverse("triage:finding_no_action", args=[finding.pk]), {"reason": "Early"})

    finding.refresh_from_db()
    assert finding.outcome == Finding.Outcome.PENDING


@pytest.mark.parametrize("who", ["owner", "teammate", "staff"])
def test_the_retros_people_and_staff_triage(client, request, pain, who):
    client.force_login(request.getfixturevalue(who))

    response = client.post(reverse("triage:finding_no_action", args=[pain.pk]), {"reason": "ok"})

    assert response.status_code == 302
    pain.refresh_from_db()
    assert pain.outcome == Finding.Outcome.NO_ACTION


def test_an_outsider_may_not_triage_at_all(outsider_client, pain):
    card = ImprovementFactory()
    category = Category.objects.first()

    responses = [
        outsider_client.post(
            reverse("triage:finding_promote", args=[pain.pk]),
            {"title": "x", "category": category.pk},
        ),
        outsider_client.post(
            reverse("triage:finding_link", args=[pain.pk]), {"improvement": card.pk}
        ),
        outsider_client.post(reverse("triage:finding_no_action", args=[pain.pk]), {"reason": "x"}),
        outsider_client.post(reverse("triage:finding_reopen", args=[pain.pk])),
    ]

    assert [response.status_code for response in responses] == [403, 403, 403, 403]
    pain.refresh_from_db()
    assert pain.outcome == Finding.Outcome.PENDING
    assert Improvement.objects.count() == 1
    page = outsider_client.get(reverse("triage:retro_triage", args=[pain.retro_id]))
    assert "Create improvement" not in page.text


def test_search_as_you_type_finds_open_improvements_with_link_buttons(owner_client, pain):
    ImprovementFactory(title="Automate the smoke tests")
    ImprovementFactory(title="Write the runbook")

    response = owner_client.get(
        reverse("triage:improvement_search"),
        {"q": "smoke auto", "finding": pain.pk},
        HTTP_HX_REQUEST="true",
    )

    assert "Automate the smoke tests" in response.text
    assert "Write the runbook" not in response.text
    assert "Link to “Automate the smoke tests”" in response.text
    assert "<html" not in response.text


def test_search_without_javascript_is_a_page_and_outsiders_get_no_link_buttons(
    outsider_client, pain
):
    ImprovementFactory(title="Automate the smoke tests")

    response = outsider_client.get(
        reverse("triage:improvement_search"), {"q": "smoke", "finding": pain.pk}
    )

    assert "<html" in response.text
    assert "Automate the smoke tests" in response.text
    assert "Link to" not in response.text


def test_triage_page_queries_do_not_grow_with_findings(
    owner_client, retro, django_assert_max_num_queries
):
    for n in range(12):
        FindingFactory(retro=retro, text=f"pain {n}")

    # 16: votes once, and the similar cards of every finding in three queries together.
    with django_assert_max_num_queries(16):
        response = owner_client.get(reverse("triage:retro_triage", args=[retro.pk]))

    assert response.text.count("Create improvement") == 12
