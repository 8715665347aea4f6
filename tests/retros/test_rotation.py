import datetime

import pytest
from django.urls import reverse

from retros import rotation
from retros.models import DutyWeek, Retrospective, Unit
from tests.factories import DutyWeekFactory, UnitFactory, UserFactory, this_monday


@pytest.fixture
def teams(db):
    qa = UnitFactory(
        name="QA",
        kind=Unit.Kind.QA,
        members=[UserFactory(username="qa1"), UserFactory(username="qa2")],
    )
    platform = UnitFactory(
        name="Platform", kind=Unit.Kind.PLATFORM, members=[UserFactory(username="plat1")]
    )
    products = [UnitFactory(name=name) for name in ("Alpha", "Beta", "Gamma")]
    return {"qa": qa, "platform": platform, "products": products}


@pytest.fixture
def platform_client(client, teams):
    client.force_login(teams["platform"].members.get())
    return client


def test_it_plans_weeks_round_robin_over_active_product_units(teams):
    created = rotation.generate(5)

    assert [week.unit.name for week in created] == ["Alpha", "Beta", "Gamma", "Alpha", "Beta"]
    assert [week.qa_person.username for week in created] == ["qa1", "qa2", "qa1", "qa2", "qa1"]
    assert {week.platform_person.username for week in created} == {"plat1"}
    assert created[0].week_start == this_monday()
    assert DutyWeek.objects.count() == 5


def test_it_carries_on_after_the_last_planned_week_and_keeps_planned_weeks(teams):
    alpha, beta, gamma = teams["products"]
    DutyWeekFactory(week_start=this_monday() - datetime.timedelta(weeks=1), unit=beta)
    DutyWeekFactory(week_start=this_monday() + datetime.timedelta(weeks=1), unit=beta)

    created = rotation.generate(3)

    weeks = list(DutyWeek.objects.filter(week_start__gte=this_monday()).order_by("week_start"))
    assert [week.unit.name for week in weeks] == ["Gamma", "Beta", "Gamma"]
    assert len(created) == 2


def test_a_deactivated_unit_leaves_the_rotation_and_its_future_weeks_are_replanned(teams):
    alpha, beta, gamma = teams["products"]
    rotation.generate(4)  # Alpha, Beta, Gamma, Alpha

    replanned = rotation.deactivate(alpha)

    weeks = list(DutyWeek.objects.order_by("week_start"))
    assert replanned == 1
    assert [week.unit.name for week in weeks] == ["Alpha", "Beta", "Gamma", "Beta"]
    assert rotation.generate(6)[-1].unit.name in {"Beta", "Gamma"}
    assert not DutyWeek.objects.filter(unit=alpha, week_start__gt=this_monday()).exists()


def test_it_refuses_to_plan_without_product_units(db):
    with pytest.raises(rotation.RotationError, match="no active product unit"):
        rotation.generate(2)


def test_swapping_two_weeks_exchanges_their_units(teams):
    first, second = rotation.generate(2)

    rotation.swap(first, second)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.unit.name, second.unit.name) == ("Beta", "Alpha")


def test_a_week_whose_retro_started_cannot_be_swapped(teams):
    first, second = rotation.generate(2)
    Retrospective.objects.create(duty_week=first)

    with pytest.raises(
        rotation.RotationError, match="A week whose retro has started keeps its unit"
    ):
        rotation.swap(first, second)


def test_the_platform_team_plans_weeks_from_the_rotation_page(platform_client, teams):
    response = platform_client.post(reverse("teams:rotation_generate"), {"weeks": "3"})

    assert response.status_code == 302
    assert DutyWeek.objects.count() == 3
    page = platform_client.get(reverse("teams:rotation"))
    assert "Alpha" in page.text and "Gamma" in page.text


def test_a_bad_week_count_re_renders_with_the_input_kept(platform_client, teams):
    response = platform_client.post(reverse("teams:rotation_generate"), {"weeks": "99"})

    assert response.status_code == 400
    assert 'value="99"' in response.text
    assert "less than or equal to 52" in response.text
    assert DutyWeek.objects.count() == 0


@pytest.mark.parametrize("who", ["owner", "teammate", "outsider"])
def test_only_staff_and_platform_people_plan_swap_or_edit_weeks(
    client, request, teams, who, duty_week
):
    client.force_login(request.getfixturevalue(who))
    other = DutyWeekFactory(week_start=this_monday() + datetime.timedelta(weeks=1))

    assert client.post(reverse("teams:rotation_generate"), {"weeks": "3"}).status_code == 403
    swap = client.post(reverse("teams:rotation_swap"), {"first": duty_week.pk, "second": other.pk})
    assert swap.status_code == 403
    edit = client.post(
        reverse("teams:duty_week_edit", args=[other.pk]), {"unit": duty_week.unit_id}
    )
    assert edit.status_code == 403
    assert DutyWeek.objects.count() == 2
    other.refresh_from_db()
    assert other.unit != duty_week.unit


def test_staff_edit_a_week(client, staff, teams, duty_week):
    client.force_login(staff)
    beta = teams["products"][1]
    qa2 = teams["qa"].members.get(username="qa2")

    response = client.post(
        reverse("teams:duty_week_edit", args=[duty_week.pk]),
        {"unit": beta.pk, "qa_person": qa2.pk, "platform_person": ""},
    )

    assert response.status_code == 302
    duty_week.refresh_from_db()
    assert (duty_week.unit, duty_week.qa_person, duty_week.platform_person) == (beta, qa2, None)


def test_staff_swap_weeks_from_the_page(client, staff, teams):
    client.force_login(staff)
    first, second = rotation.generate(2)

    response = client.post(reverse("teams:rotation_swap"), {"first": first.pk, "second": second.pk})

    assert response.status_code == 302
    first.refresh_from_db()
    assert first.unit.name == "Beta"


def test_swapping_a_week_with_itself_is_refused_with_a_message(client, staff, teams):
    client.force_login(staff)
    first, _ = rotation.generate(2)

    response = client.post(reverse("teams:rotation_swap"), {"first": first.pk, "second": first.pk})

    assert response.status_code == 400
    assert "Choose two different weeks." in response.text


@pytest.mark.parametrize("empty", ["qa_person", "platform_person"])
def test_the_rotation_page_shows_a_week_without_its_qa_shadow_or_platform_member(
    outsider_client, teams, empty
):
    week = DutyWeekFactory(unit=teams["products"][0], **{empty: None})

    response = outsider_client.get(reverse("teams:rotation"))

    assert response.status_code == 200
    assert week.iso_label in response.content.decode()
    assert "<td>—</td>" in response.content.decode()


def test_the_rotation_page_shows_weeks_planned_with_no_active_qa_person(platform_client, teams):
    teams["qa"].is_active = False
    teams["qa"].save()
    created = rotation.generate(2)
    assert [week.qa_person for week in created] == [None, None]

    response = platform_client.get(reverse("teams:rotation"))

    assert response.status_code == 200
    assert response.content.decode().count("<td>—</td>") >= 2


def test_the_rotation_page_survives_the_deletion_of_a_week_s_people(outsider_client, teams):
    week = DutyWeekFactory(unit=teams["products"][0])
    week.qa_person.delete()
    week.platform_person.delete()

    response = outsider_client.get(reverse("teams:rotation"))

    assert response.status_code == 200
    week.refresh_from_db()
    assert week.qa_person is None and week.platform_person is None


def test_the_rotation_page_names_people_by_full_name_else_username(outsider_client, teams):
    DutyWeekFactory(
        unit=teams["products"][0],
        qa_person=UserFactory(username="qa-nameless", first_name="", last_name=""),
        platform_person=UserFactory(username="plat-named", first_name="Ada", last_name="Lovelace"),
    )

    page = outsider_client.get(reverse("teams:rotation")).content.decode()

    assert "<td>qa-nameless</td>" in page
    assert "<td>Ada Lovelace</td>" in page
