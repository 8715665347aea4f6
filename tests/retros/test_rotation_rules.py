"""The rules of the duty rotation, each pinned by a test (mutation testing found them unpinned)."""

import datetime
import threading

import pytest
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from retros import rotation
from retros.models import DutyWeek, Retrospective, Unit
from tests.factories import (
    DutyWeekFactory,
    UnitFactory,
    UserFactory,
    this_monday,
    weeks_from_now,
)


def on_duty(week: int, unit, qa, platform):
    """The duty week `week` weeks from this one, planned with these people."""
    return DutyWeekFactory(
        week_start=weeks_from_now(week), unit=unit, qa_person=qa, platform_person=platform
    )


@pytest.fixture
def qa_people(db):
    people = [UserFactory(username="qa1"), UserFactory(username="qa2")]
    UnitFactory(name="QA", kind=Unit.Kind.QA, members=people)
    return people


@pytest.fixture
def platform_people(db):
    people = [UserFactory(username="plat1"), UserFactory(username="plat2")]
    UnitFactory(name="Platform", kind=Unit.Kind.PLATFORM, members=people)
    return people


@pytest.fixture
def products(db):
    # Created out of name order, so the database's order is not the rotation's.
    gamma = UnitFactory(name="Gamma")
    alpha = UnitFactory(name="alpha")
    beta = UnitFactory(name="Beta")
    return alpha, beta, gamma


@pytest.mark.parametrize("count", [0, -1, rotation.MAX_WEEKS + 1])
def test_planning_zero_or_too_many_weeks_is_refused(products, count):
    with pytest.raises(rotation.RotationError, match=r"^Plan between 1 and 52 weeks at a time\.$"):
        rotation.generate(count)

    assert not DutyWeek.objects.exists()


def test_planning_exactly_the_maximum_of_weeks_is_allowed(products):
    created = rotation.generate(rotation.MAX_WEEKS)

    assert len(created) == rotation.MAX_WEEKS == 52
    assert created[-1].week_start == weeks_from_now(51)


def test_planning_a_single_week_plans_this_week(products):
    (week,) = rotation.generate(1)

    assert week.week_start == this_monday()
    assert week.unit.name == "alpha"


def test_planning_without_a_product_unit_names_the_reason(db):
    UnitFactory(name="Retired", is_active=False)

    with pytest.raises(
        rotation.RotationError, match=r"^There is no active product unit to put on duty\.$"
    ):
        rotation.generate(2)


def test_units_take_turns_in_name_order_ignoring_case_not_in_creation_order(products):
    created = rotation.generate(4)

    assert [week.unit.name for week in created] == ["alpha", "Beta", "Gamma", "alpha"]


def test_unit_names_compare_in_lower_case(db):
    # "_" sorts between upper- and lower-case letters, so this order holds only in lower case.
    UnitFactory(name="Webapp")
    UnitFactory(name="Web_shop")

    assert [week.unit.name for week in rotation.generate(2)] == ["Web_shop", "Webapp"]


def test_planning_starts_on_the_monday_of_the_given_day(products):
    wednesday = weeks_from_now(3) + datetime.timedelta(days=2)

    created = rotation.generate(2, start=wednesday)

    assert [week.week_start for week in created] == [weeks_from_now(3), weeks_from_now(4)]


def test_the_qa_and_platform_turns_carry_on_from_the_week_before(
    products, qa_people, platform_people
):
    alpha, beta, gamma = products
    qa1, qa2 = qa_people
    plat1, plat2 = platform_people
    on_duty(-1, beta, qa1, plat1)

    created = rotation.generate(3)

    assert [week.unit for week in created] == [gamma, alpha, beta]
    assert [week.qa_person for week in created] == [qa2, qa1, qa2]
    assert [week.platform_person for week in created] == [plat2, plat1, plat2]


def test_more_than_one_platform_member_take_turns(products, platform_people):
    plat1, plat2 = platform_people

    created = rotation.generate(3)

    assert [week.platform_person for week in created] == [plat1, plat2, plat1]
    assert [week.qa_person for week in created] == [None, None, None]


def test_a_planned_week_in_between_moves_the_turns_on(products, qa_people, platform_people):
    alpha, beta, gamma = products
    qa1, qa2 = qa_people
    plat1, plat2 = platform_people
    on_duty(-1, alpha, qa1, plat1)
    on_duty(0, gamma, qa2, plat2)

    created = rotation.generate(2)

    assert [week.week_start for week in created] == [weeks_from_now(1)]
    assert created[0].unit == alpha
    assert created[0].qa_person == qa1
    assert created[0].platform_person == plat1


def test_a_planned_week_without_people_keeps_the_turns_of_the_week_before(
    products, qa_people, platform_people
):
    alpha, beta, gamma = products
    qa1, qa2 = qa_people
    plat1, plat2 = platform_people
    on_duty(-1, alpha, qa1, plat1)
    on_duty(0, beta, None, None)

    (created,) = rotation.generate(2)

    assert (created.unit, created.qa_person, created.platform_person) == (gamma, qa2, plat2)


def test_weeks_planned_after_the_range_do_not_count_as_the_week_before(products, qa_people):
    alpha, beta, gamma = products
    DutyWeekFactory(week_start=weeks_from_now(5), unit=gamma, qa_person=qa_people[1])

    created = rotation.generate(2)

    assert [week.unit for week in created] == [alpha, beta]


def test_people_of_inactive_units_and_inactive_people_are_left_out(products):
    old_qa = UnitFactory(name="Old QA", kind=Unit.Kind.QA, is_active=False)
    old_qa.members.add(UserFactory(username="aaron"))
    qa = UnitFactory(name="QA", kind=Unit.Kind.QA)
    qa.members.add(UserFactory(username="abby", is_active=False), UserFactory(username="zoe"))

    created = rotation.generate(2)

    assert [week.qa_person.username for week in created] == ["zoe", "zoe"]


def test_a_person_in_two_qa_units_takes_one_turn(products):
    shared = UserFactory(username="qa1")
    UnitFactory(name="QA", kind=Unit.Kind.QA, members=[shared, UserFactory(username="qa2")])
    UnitFactory(name="QA too", kind=Unit.Kind.QA, members=[shared])

    created = rotation.generate(3)

    assert [week.qa_person.username for week in created] == ["qa1", "qa2", "qa1"]


def test_planning_reads_the_weeks_around_it_in_a_fixed_number_of_queries(
    products, qa_people, platform_people, django_assert_num_queries
):
    alpha, beta, gamma = products
    DutyWeekFactory(week_start=weeks_from_now(-1), unit=alpha, qa_person=qa_people[0])
    DutyWeekFactory(week_start=weeks_from_now(1), unit=gamma, platform_person=platform_people[0])

    # Units, QA people, platform people, the planned weeks, the week before, and in a savepoint
    # the insert and the linking of deployments: the planned weeks' units and people come with
    # them, not one query each.
    with django_assert_num_queries(10):
        created = rotation.generate(4)

    assert [week.unit for week in created] == [beta, alpha, beta]


def test_swapping_a_week_with_itself_is_refused(products):
    first, _second = rotation.generate(2)

    with pytest.raises(rotation.RotationError, match=r"^Choose two different weeks to swap\.$"):
        rotation.swap(first, first)

    first.refresh_from_db()
    assert first.unit.name == "alpha"


def test_a_week_whose_retro_started_keeps_its_unit(products):
    first, second = rotation.generate(2)
    Retrospective.objects.create(duty_week=second)

    with pytest.raises(rotation.RotationError, match=r"^A week whose retro has started keeps"):
        rotation.swap(first, second)

    second.refresh_from_db()
    assert second.unit.name == "Beta"


def test_a_swap_keeps_each_weeks_qa_and_platform_people(products, qa_people, platform_people):
    first, second = rotation.generate(2)

    rotation.swap(second, first)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.unit.name, second.unit.name) == ("Beta", "alpha")
    assert (first.qa_person, second.qa_person) == tuple(qa_people)
    assert (first.platform_person, second.platform_person) == tuple(platform_people)


def test_deactivating_a_unit_without_future_weeks_replans_nothing(products):
    alpha, beta, gamma = products
    DutyWeekFactory(week_start=this_monday(), unit=alpha)

    assert rotation.deactivate(alpha) == 0

    alpha.refresh_from_db()
    assert alpha.is_active is False
    assert DutyWeek.objects.get().unit == alpha  # this week stays as it is


def test_deactivating_a_qa_unit_replans_nothing(products, qa_people):
    qa_unit = Unit.objects.get(name="QA")
    rotation.generate(3)

    assert rotation.deactivate(qa_unit) == 0

    qa_unit.refresh_from_db()
    assert qa_unit.is_active is False
    assert DutyWeek.objects.filter(qa_person__isnull=False).count() == 3


def test_deactivating_a_unit_gives_all_its_future_weeks_to_the_others(products):
    alpha, beta, gamma = products
    rotation.generate(7)  # alpha, Beta, Gamma, alpha, Beta, Gamma, alpha
    Retrospective.objects.create(duty_week=DutyWeek.objects.get(week_start=weeks_from_now(3)))

    replanned = rotation.deactivate(alpha)

    assert replanned == 1  # week 6; week 3's retro has started, this week is under way
    units = [week.unit.name for week in DutyWeek.objects.order_by("week_start")]
    assert units == ["alpha", "Beta", "Gamma", "alpha", "Beta", "Gamma", "Beta"]


def test_deactivating_the_last_product_unit_leaves_its_future_weeks_empty(qa_people):
    only = UnitFactory(name="Only")
    rotation.generate(3)

    assert rotation.deactivate(only) == 0

    assert list(DutyWeek.objects.values_list("week_start", flat=True)) == [this_monday()]


def test_deactivating_replans_the_freed_weeks_and_keeps_the_rest(products):
    alpha, beta, gamma = products
    DutyWeekFactory(week_start=weeks_from_now(1), unit=alpha)
    DutyWeekFactory(week_start=weeks_from_now(2), unit=beta)
    DutyWeekFactory(week_start=weeks_from_now(4), unit=alpha)

    replanned = rotation.deactivate(alpha)

    assert replanned == 2
    weeks = {week.week_start: week.unit.name for week in DutyWeek.objects.all()}
    assert weeks == {
        weeks_from_now(1): "Beta",
        weeks_from_now(2): "Beta",
        weeks_from_now(3): "Gamma",
        weeks_from_now(4): "Beta",
    }


def test_a_member_of_an_inactive_platform_unit_cannot_plan(client, products):
    former = UserFactory(username="former")
    UnitFactory(name="Old platform", kind=Unit.Kind.PLATFORM, is_active=False, members=[former])
    client.force_login(former)

    response = client.post(reverse("teams:rotation_generate"), {"weeks": "3"})

    assert response.status_code == 403
    assert not DutyWeek.objects.exists()


def test_a_member_of_an_active_platform_unit_plans(client, products, platform_people):
    client.force_login(platform_people[0])

    response = client.post(reverse("teams:rotation_generate"), {"weeks": "3"})

    assert response.status_code == 302
    assert DutyWeek.objects.count() == 3


def test_a_plan_that_is_already_made_says_so(client, staff, products):
    client.force_login(staff)
    rotation.generate(2)

    response = client.post(reverse("teams:rotation_generate"), {"weeks": "2"}, follow=True)

    assert "Those weeks were already planned" in response.text
    assert DutyWeek.objects.count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_people_planning_the_same_week_at_once_get_a_clear_refusal():
    UnitFactory(name="Alpha")
    UnitFactory(name="Beta")
    outcome = {}
    inserted, done = threading.Event(), threading.Event()

    def first_planner():
        # Plans this week but does not commit until the other planner waits on its row.
        try:
            with transaction.atomic():
                DutyWeek.objects.create(
                    week_start=this_monday(), unit=Unit.objects.get(name="Beta")
                )
                inserted.set()
                wait_for_a_blocked_insert()
        finally:
            connections.close_all()

    def second_planner():
        inserted.wait(10)
        try:
            rotation.generate(2)
        except rotation.RotationError as error:
            outcome["error"] = str(error)
        finally:
            connections.close_all()
            done.set()

    threads = [threading.Thread(target=first_planner), threading.Thread(target=second_planner)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert outcome == {
        "error": "Someone planned some of these weeks at the same moment; look again and retry."
    }
    weeks = DutyWeek.objects.values_list("week_start", "unit__name")
    assert list(weeks) == [(this_monday(), "Beta")]  # nothing half-written from the second plan


def wait_for_a_blocked_insert(timeout=10.0):
    """Return once another connection waits on a lock (the second planner's insert)."""
    deadline = timezone.now() + datetime.timedelta(seconds=timeout)
    with connection.cursor() as cursor:
        while timezone.now() < deadline:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                return
            threading.Event().wait(0.05)
    raise AssertionError("the second planner never waited on the first one's row")


def test_the_rotation_page_shows_a_week_without_qa_or_platform_person(client, staff, products):
    # A filter argument that fails its lookup raises in Django templates: this page was a 500.
    client.force_login(staff)
    DutyWeekFactory(
        week_start=this_monday(), unit=products[0], qa_person=None, platform_person=None
    )

    response = client.get(reverse("teams:rotation"))

    assert response.status_code == 200
    assert response.text.count("<td>—</td>") >= 2


def test_deactivating_writes_only_the_active_flag(products):
    alpha = Unit.objects.get(name="alpha")
    Unit.objects.filter(pk=alpha.pk).update(name="Alpha renamed meanwhile")

    rotation.deactivate(alpha)

    alpha.refresh_from_db()
    assert (alpha.name, alpha.is_active) == ("Alpha renamed meanwhile", False)


def test_usernames_compare_in_lower_case_for_the_next_turn(products):
    # "_" sorts between upper- and lower-case letters, so "qab" follows "qa_b" only in lower case.
    people = [UserFactory(username=name) for name in ("aaa", "qa_b", "qab")]
    UnitFactory(name="QA", kind=Unit.Kind.QA, members=people)
    DutyWeekFactory(week_start=weeks_from_now(-1), unit=products[0], qa_person=people[1])

    (week,) = rotation.generate(1)

    assert week.qa_person.username == "qab"
