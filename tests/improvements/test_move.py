import datetime

import pytest
from django.utils import timezone

from improvements.models import Column, Event, Improvement, MoveError
from improvements.models.board import FINISHED_CARDS_SHOWN_FOR
from tests.factories import ColumnFactory, ImprovementFactory
from tests.improvements.board_helpers import cards_at, titles_in


def test_it_moves_a_card_to_the_top_of_its_column(ideas, columns):
    ideas[2].move_to(columns["Ideas"], after=None)
    assert titles_in(columns["Ideas"]) == ["C", "A", "B"]


def test_it_moves_a_card_after_a_neighbour(ideas, columns):
    ideas[0].move_to(columns["Ideas"], after=ideas[1])
    assert titles_in(columns["Ideas"]) == ["B", "A", "C"]


def test_it_moves_a_card_into_an_empty_column_and_stamps_times(ideas, columns, owner):
    changed = ideas[1].move_to(columns["In progress"], after=None, actor=owner)
    card = Improvement.objects.get(pk=ideas[1].pk)
    assert titles_in(columns["In progress"]) == ["B"]
    assert titles_in(columns["Ideas"]) == ["A", "C"]
    assert card.started_at is not None and card.done_at is None
    assert changed == {columns["Ideas"].pk, columns["In progress"].pk}
    event = Event.objects.get(improvement=card, kind="moved")
    assert (event.from_column, event.to_column, event.actor) == (
        columns["Ideas"],
        columns["In progress"],
        owner,
    )


def test_moving_to_done_sets_done_time_and_back_clears_it(ideas, columns):
    ideas[0].move_to(columns["Done"])
    assert Improvement.objects.get(pk=ideas[0].pk).done_at is not None
    ideas[0].move_to(columns["Next"])
    assert Improvement.objects.get(pk=ideas[0].pk).done_at is None


def test_it_respaces_a_column_when_neighbours_have_no_gap(columns):
    a, b = cards_at(columns["Ideas"], A=1, B=2)
    c = ImprovementFactory(title="C", column=columns["Next"])
    c.move_to(columns["Ideas"], after=a)
    assert titles_in(columns["Ideas"]) == ["A", "C", "B"]
    positions = list(
        Improvement.objects.filter(column=columns["Ideas"]).values_list("position", flat=True)
    )
    assert len(set(positions)) == 3
    assert b.pk


def test_respacing_a_packed_column_keeps_its_order_in_a_fixed_number_of_queries(
    columns, django_assert_max_num_queries
):
    packed = [
        ImprovementFactory(title=f"card {i:03}", column=columns["Ideas"], position=i)
        for i in range(1, 121)
    ]
    mover = ImprovementFactory(title="mover", column=columns["Next"])
    # lock, neighbours, 3 to respace, neighbours again, update, event (+ savepoint)
    with django_assert_max_num_queries(10):
        mover.move_to(columns["Ideas"], after=packed[59])
    titles = [card.title for card in packed]
    assert titles_in(columns["Ideas"]) == [*titles[:60], "mover", *titles[60:]]
    positions = sorted(
        Improvement.objects.filter(column=columns["Ideas"]).values_list("position", flat=True)
    )
    assert min(b - a for a, b in zip(positions, positions[1:], strict=False)) >= 2


def test_it_refuses_a_neighbour_from_another_column(ideas, columns):
    other = ImprovementFactory(column=columns["Next"])
    with pytest.raises(MoveError, match="^The card to land next to is no longer in that column"):
        ideas[0].move_to(columns["Ideas"], after=other)


def test_it_lands_a_card_right_before_a_neighbour(ideas, columns):
    ideas[2].move_to(columns["Ideas"], before=ideas[1])
    assert titles_in(columns["Ideas"]) == ["A", "C", "B"]


def test_it_lands_a_card_before_the_first_one(ideas, columns):
    ideas[2].move_to(columns["Ideas"], before=ideas[0].pk)
    assert titles_in(columns["Ideas"]) == ["C", "A", "B"]


def test_it_moves_a_card_to_the_bottom(ideas, columns):
    ideas[0].move_to(columns["Ideas"], to_bottom=True)
    assert titles_in(columns["Ideas"]) == ["B", "C", "A"]


def test_it_moves_a_card_to_the_bottom_of_an_empty_column(ideas, columns):
    ideas[0].move_to(columns["Next"], to_bottom=True)
    assert titles_in(columns["Next"]) == ["A"]


def test_it_moves_a_card_after_the_last_one(ideas, columns):
    ideas[0].move_to(columns["Ideas"], after=ideas[2])
    assert titles_in(columns["Ideas"]) == ["B", "C", "A"]


def test_a_card_cannot_land_next_to_itself(ideas, columns):
    with pytest.raises(MoveError, match=r"^A card cannot land next to itself\.$"):
        ideas[0].move_to(columns["Ideas"], after=ideas[0])


def test_a_stale_copy_of_a_card_still_moves_it_from_where_it_really_is(ideas, columns):
    stale = Improvement.objects.get(pk=ideas[0].pk)
    ideas[0].move_to(columns["Next"])  # someone else moved it meanwhile
    changed = stale.move_to(columns["Done"])
    card = Improvement.objects.get(pk=ideas[0].pk)
    assert card.column == columns["Done"]
    assert changed == {columns["Next"].pk, columns["Done"].pk}
    last = Event.objects.filter(improvement=card, kind="moved").last()
    assert last.from_column == columns["Next"]


def test_moving_within_a_column_keeps_the_time_it_entered(ideas, columns):
    entered = Improvement.objects.get(pk=ideas[2].pk).column_entered_at
    ideas[2].move_to(columns["Ideas"])
    assert Improvement.objects.get(pk=ideas[2].pk).column_entered_at == entered


def test_a_move_writes_only_the_moved_card_when_there_is_room(ideas, columns):
    before = dict(Improvement.objects.values_list("pk", "position"))
    ideas[2].move_to(columns["Ideas"], after=ideas[0])
    after = dict(Improvement.objects.values_list("pk", "position"))
    assert [pk for pk in before if before[pk] != after[pk]] == [ideas[2].pk]


@pytest.mark.parametrize("show_all", [False, True])
def test_board_counts_agree_with_the_cards_the_board_shows(columns, show_all):
    # Improvement.board_counts restates on_board in SQL: this pins the two together, over a column
    # of every state and cards recent, just inside and just past the cutoff, old and archived.
    ColumnFactory(name="Dropped", state=Column.State.DROPPED, position=99)
    now = timezone.now()
    long_ago = now - datetime.timedelta(weeks=10)
    for column in Column.objects.all():
        ImprovementFactory.create_batch(2, column=column)
        ImprovementFactory(column=column, column_entered_at=long_ago)
        ImprovementFactory(column=column, column_entered_at=now - FINISHED_CARDS_SHOWN_FOR)
        ImprovementFactory(
            column=column,
            column_entered_at=now - FINISHED_CARDS_SHOWN_FOR + datetime.timedelta(minutes=5),
        )
        ImprovementFactory(column=column, archived_at=now)
    all_columns = list(Column.objects.all())
    assert {column.state for column in all_columns} == set(Column.State)
    finished = [column.pk for column in all_columns if column.is_finished]
    shown = Improvement.objects.on_board(finished, show_all=show_all)
    above = Improvement.objects.order_by("position").values_list("position", flat=True)[3]
    counts = Improvement.board_counts(all_columns, show_all=show_all, above=above)
    assert counts == {
        column.pk: (
            shown.filter(column=column).count(),
            shown.filter(column=column, position__lt=above).count(),
        )
        for column in all_columns
    }
    # Finished columns hide their old cards unless asked: 3 of 5 open cards shown, else 5.
    finished_totals = {counts[pk][0] for pk in finished}
    assert finished_totals == ({5} if show_all else {3})
