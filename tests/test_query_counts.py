"""Pages answer in a fixed number of SQL queries, however many cards, findings or deployments.

Each test renders a page with a little data, adds ten times as much, and renders it again
under `django_assert_max_num_queries` with the first count: a query per row (N+1) fails.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from improvements.models import Column, Event, FindingLink
from retros.models import Deployment
from tests.factories import (
    CategoryFactory,
    CommentFactory,
    DeploymentFactory,
    DutyWeekFactory,
    FindingFactory,
    ImprovementFactory,
    ProcessStepFactory,
    RetrospectiveFactory,
    UnitFactory,
    UserFactory,
)
from tests.improvements.board_helpers import move


def count_queries(client, url: str, **headers) -> int:
    client.get(url, **headers)  # warm up anything cached per process
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    assert response.status_code == 200
    return len(captured.captured_queries)


def add_cards(count: int, *, start: int = 0) -> list:
    """Cards that use everything a card can show: category, unit, assignee, step, findings."""
    columns = list(Column.objects.exclude(state=Column.State.DONE).order_by("position"))
    cards = []
    for n in range(start, start + count):
        unit = UnitFactory()
        card = ImprovementFactory(
            column=columns[n % len(columns)],
            category=CategoryFactory(slug=f"query-count-{n % 3}"),
            unit=unit,
            assignee=UserFactory(),
            target_step=ProcessStepFactory(),
        )
        finding = FindingFactory(retro=RetrospectiveFactory(duty_week=week(500 + n, unit)))
        FindingLink.objects.create(finding=finding, improvement=card)
        Event.objects.create(improvement=card, kind=Event.Kind.CREATED, to_column=card.column)
        cards.append(card)
    return cards


def week(n: int, unit):
    return DutyWeekFactory(
        unit=unit, week_start=datetime.date(2020, 1, 6) + datetime.timedelta(weeks=n)
    )


def test_the_board_needs_the_same_queries_for_50_cards_as_for_5(
    owner_client, django_assert_max_num_queries
):
    add_cards(5)
    url = reverse("board:board")
    few = count_queries(owner_client, url)
    add_cards(45, start=5)
    with django_assert_max_num_queries(few):
        response = owner_client.get(url)
    assert response.content.decode().count('class="board-card') == 50
    assert few <= 10, "DESIGN.md: the board needs at most 10 queries"


def test_a_move_needs_the_same_queries_in_a_full_column_as_in_a_small_one(
    owner_client, columns, django_assert_max_num_queries
):
    ideas = columns["Ideas"]
    cards = [ImprovementFactory(column=ideas, unit=UnitFactory()) for _ in range(5)]

    def queries_of_a_move(card, after):
        with CaptureQueriesContext(connection) as captured:
            response = move(owner_client, card, ideas, after=after.pk)
        assert response.status_code == 200
        return captured.captured_queries

    few = queries_of_a_move(cards[0], cards[2])
    cards += [ImprovementFactory(column=ideas, unit=UnitFactory()) for _ in range(45)]
    with django_assert_max_num_queries(len(few)):
        queries_of_a_move(cards[1], cards[40])
    # The test's own transaction turns the move's into a savepoint; production has none.
    statements = [q["sql"] for q in few if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(statements) <= 8, "DESIGN.md: a move needs at most 8 queries"


def test_card_detail_needs_the_same_queries_for_a_long_history(
    owner_client, owner, django_assert_max_num_queries
):
    card = add_cards(1)[0]
    url = reverse("board:improvement_detail", args=[card.pk])

    def add_history(count: int, start: int):
        for n in range(start, start + count):
            author = UserFactory()
            CommentFactory(improvement=card, author=author)
            Event.objects.create(improvement=card, kind=Event.Kind.COMMENTED, actor=author)
            finding = FindingFactory(
                retro=RetrospectiveFactory(duty_week=week(100 + n, UnitFactory())),
                author=author,
            )
            FindingLink.objects.create(finding=finding, improvement=card, linked_by=author)

    add_history(2, 0)
    few = count_queries(owner_client, url)
    add_history(20, 2)
    with django_assert_max_num_queries(few):
        response = owner_client.get(url)
    assert response.status_code == 200


def test_the_retro_page_needs_the_same_queries_for_30_findings_as_for_3(
    owner_client, duty_week, django_assert_max_num_queries
):
    retro = RetrospectiveFactory(duty_week=duty_week)

    def add_findings(count: int):
        for n in range(count):
            FindingFactory(retro=retro, author=UserFactory(), kind=["pain", "idea", "well"][n % 3])
            start = timezone.now() - datetime.timedelta(hours=n + 1)
            DeploymentFactory(
                duty_week=duty_week,
                started_at=start,
                finished_at=start + datetime.timedelta(minutes=30),
                deployer=UserFactory(),
            )

    add_findings(3)
    url = reverse("retros:retro_detail", args=[retro.pk])
    few = count_queries(owner_client, url)
    add_findings(27)
    with django_assert_max_num_queries(few):
        response = owner_client.get(url)
    assert retro.findings.count() == 30
    assert response.status_code == 200


@pytest.mark.parametrize("url_name", ["deployments:deployment_list", "reporting:dashboard"])
def test_deployment_pages_need_the_same_queries_for_60_deployments_as_for_6(
    url_name, owner_client, django_assert_max_num_queries
):
    def add_deployments(count: int, start: int):
        for n in range(start, start + count):
            unit = UnitFactory()
            duty = week(n, unit)
            started = timezone.make_aware(
                datetime.datetime.combine(duty.week_start, datetime.time(10))
            )
            DeploymentFactory(
                started_at=started,
                finished_at=started + datetime.timedelta(minutes=20 + n),
                deployer=UserFactory(),
                shadow=UserFactory(),
                result=Deployment.Result.values[n % 4],
            )

    add_deployments(6, 0)
    add_cards(3)
    url = reverse(url_name)
    few = count_queries(owner_client, url)
    add_deployments(54, 6)
    add_cards(27, start=3)
    with django_assert_max_num_queries(few):
        response = owner_client.get(url)
    assert response.status_code == 200
