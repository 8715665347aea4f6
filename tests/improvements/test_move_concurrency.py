"""Concurrent moves on PostgreSQL: no card is lost or duplicated, positions stay distinct."""

import random

import pytest
from django.db import connection

from improvements.models import Column, Event, Improvement, MoveError
from tests.factories import ImprovementFactory
from tests.improvements.board_helpers import titles_in
from tests.threads import at_once

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL"
)


def run_in_threads(jobs):
    at_once(jobs, refused=MoveError)  # a neighbour moved away first: refused, which is fine


def assert_board_is_consistent(expected_ids):
    rows = list(Improvement.objects.values_list("pk", "column_id", "position"))
    assert sorted(pk for pk, _, _ in rows) == sorted(expected_ids)
    places = [(column, position) for _, column, position in rows]
    assert len(places) == len(set(places))


@pytest.mark.django_db(transaction=True)
def test_parallel_moves_never_lose_or_duplicate_a_card():
    columns = list(Column.objects.order_by("position"))
    cards = [ImprovementFactory(column=columns[i % 2]) for i in range(24)]
    ids = [card.pk for card in cards]
    rng = random.Random(4)

    def mover(seed):
        def job():
            local = random.Random(seed)
            for _ in range(6):
                card = Improvement.objects.get(pk=local.choice(ids))
                column = local.choice(columns[:3])
                neighbours = list(
                    Improvement.objects.filter(column=column)
                    .exclude(pk=card.pk)
                    .values_list("pk", flat=True)
                )
                where = local.choice(["top", "bottom", "after", "before"])
                try:
                    if where in ("after", "before") and neighbours:
                        card.move_to(column, **{where: local.choice(neighbours)})
                    else:
                        card.move_to(column, to_bottom=where == "bottom")
                except MoveError:
                    continue

        return job

    run_in_threads([mover(rng.random()) for _ in range(8)])
    assert_board_is_consistent(ids)
    assert Event.objects.filter(kind="moved").count() > 0


@pytest.mark.django_db(transaction=True)
def test_two_cards_dropped_after_the_same_neighbour_at_once_both_land_there():
    ideas, following = Column.objects.order_by("position")[:2]
    a = ImprovementFactory(title="A", column=ideas)
    b = ImprovementFactory(title="B", column=ideas)
    x = ImprovementFactory(title="X", column=following)
    y = ImprovementFactory(title="Y", column=following)

    run_in_threads(
        [
            lambda: Improvement.objects.get(pk=x.pk).move_to(ideas, after=a.pk),
            lambda: Improvement.objects.get(pk=y.pk).move_to(ideas, after=a.pk),
        ]
    )
    order = titles_in(ideas)
    assert order[0] == "A" and order[-1] == "B"
    assert sorted(order[1:3]) == ["X", "Y"]
    assert_board_is_consistent([a.pk, b.pk, x.pk, y.pk])


@pytest.mark.django_db(transaction=True)
def test_parallel_moves_into_a_tightly_packed_column_respace_it_safely():
    ideas, following = Column.objects.order_by("position")[:2]
    packed = [ImprovementFactory(column=ideas, position=index) for index in range(1, 6)]
    movers = [ImprovementFactory(column=following) for _ in range(6)]

    def job(card, anchor):
        return lambda: Improvement.objects.get(pk=card.pk).move_to(ideas, after=anchor.pk)

    run_in_threads([job(card, packed[i % 4]) for i, card in enumerate(movers)])
    assert Improvement.objects.filter(column=ideas).count() == 11
    assert_board_is_consistent([card.pk for card in packed + movers])
