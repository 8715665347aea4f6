"""The rules of a card move and of the board's counts, each pinned by a test.

Mutation testing (make mutate) found these unpinned: a change to any of them kept the suite green.
"""

import datetime

import pytest
from django.utils import timezone

from improvements.models import (
    FINISHED_CARDS_SHOWN_FOR,
    POSITION_GAP,
    Column,
    Event,
    Improvement,
    MoveError,
)
from tests.factories import ColumnFactory, ImprovementFactory
from tests.improvements.board_helpers import cards_at

LONG_AGO = timezone.now() - datetime.timedelta(days=90)


def fresh(card):
    return Improvement.objects.get(pk=card.pk)


def positions(column):
    return list(
        Improvement.objects.filter(column=column)
        .order_by("position")
        .values_list("title", "position")
    )


@pytest.fixture
def dropped(db):
    return ColumnFactory(name="Dropped", state=Column.State.DROPPED, position=50)


# --- Times a move stamps -----------------------------------------------------------------------


def test_a_move_to_another_column_restarts_the_time_in_column(columns):
    card = ImprovementFactory(column=columns["Ideas"], column_entered_at=LONG_AGO)
    before = timezone.now()

    card.move_to(columns["Next"])

    assert fresh(card).column_entered_at >= before
    assert card.column_entered_at >= before
    assert fresh(card).days_in_column == 0


def test_a_move_between_backlog_columns_does_not_start_the_card(columns):
    card = ImprovementFactory(column=columns["Ideas"])

    card.move_to(columns["Next"])

    assert (fresh(card).started_at, fresh(card).done_at) == (None, None)


def test_a_move_into_an_active_column_starts_the_card(columns):
    card = ImprovementFactory(column=columns["Next"])
    before = timezone.now()

    card.move_to(columns["In progress"])

    assert fresh(card).started_at >= before
    assert fresh(card).done_at is None


def test_a_move_from_in_progress_to_done_keeps_the_start(columns):
    card = ImprovementFactory(column=columns["In progress"], started_at=LONG_AGO)
    before = timezone.now()

    card.move_to(columns["Done"])

    assert fresh(card).started_at == LONG_AGO
    assert fresh(card).done_at >= before


def test_a_card_that_skips_in_progress_starts_and_finishes_at_once(columns):
    card = ImprovementFactory(column=columns["Ideas"])

    card.move_to(columns["Done"])

    card = fresh(card)
    assert card.started_at is not None
    assert card.done_at == card.started_at == card.column_entered_at


def test_a_move_between_two_finished_columns_keeps_the_finish(columns, dropped):
    card = ImprovementFactory(column=columns["Done"], started_at=LONG_AGO, done_at=LONG_AGO)

    card.move_to(dropped)

    assert (fresh(card).started_at, fresh(card).done_at) == (LONG_AGO, LONG_AGO)
    assert fresh(card).column == dropped


def test_a_finished_card_moved_back_to_work_is_unfinished_but_keeps_its_start(columns):
    card = ImprovementFactory(column=columns["Done"], started_at=LONG_AGO, done_at=LONG_AGO)

    card.move_to(columns["In progress"])

    assert (fresh(card).started_at, fresh(card).done_at) == (LONG_AGO, None)
    assert card.done_at is None


def test_a_move_within_a_column_changes_no_time(columns):
    card = ImprovementFactory(
        column=columns["Done"], column_entered_at=LONG_AGO, started_at=LONG_AGO, done_at=LONG_AGO
    )

    changed = card.move_to(columns["Done"], to_bottom=True)

    card = fresh(card)
    assert (card.column_entered_at, card.started_at, card.done_at) == (LONG_AGO,) * 3
    assert changed == {columns["Done"].pk}


def test_a_move_by_column_id_updates_the_card_object_too(columns, owner):
    card = ImprovementFactory(column=columns["Ideas"])

    changed = card.move_to(columns["In progress"].pk, actor=owner)

    assert card.column == columns["In progress"]
    assert card.column_id == columns["In progress"].pk
    assert card.started_at is not None
    assert changed == {columns["Ideas"].pk, columns["In progress"].pk}
    event = Event.objects.get(improvement=card, kind=Event.Kind.MOVED)
    assert (event.from_column_id, event.to_column_id, event.actor) == (
        columns["Ideas"].pk,
        columns["In progress"].pk,
        owner,
    )


# --- Where a card lands ------------------------------------------------------------------------


def test_the_first_card_of_an_empty_column_lands_one_gap_down(columns):
    card = ImprovementFactory(title="A", column=columns["Ideas"])

    card.move_to(columns["Next"])

    assert positions(columns["Next"]) == [("A", POSITION_GAP)]


def test_a_new_card_goes_one_gap_below_the_last(columns):
    ImprovementFactory(title="A", column=columns["Ideas"], position=5000)

    assert Improvement.next_position(columns["Ideas"]) == 5000 + POSITION_GAP
    assert Improvement.next_position(columns["Next"]) == POSITION_GAP


def test_a_card_lands_halfway_between_its_neighbours(columns):
    _, b = cards_at(columns["Ideas"], A=1000, B=2000)
    c = ImprovementFactory(title="C", column=columns["Next"])

    c.move_to(columns["Ideas"], before=b)

    assert positions(columns["Ideas"]) == [("A", 1000), ("C", 1500), ("B", 2000)]


def test_a_card_lands_one_gap_above_the_top_and_below_the_bottom(columns):
    a = ImprovementFactory(title="A", column=columns["Ideas"], position=5000)
    top = ImprovementFactory(title="Top", column=columns["Next"])
    bottom = ImprovementFactory(title="Bottom", column=columns["Next"])

    top.move_to(columns["Ideas"], before=a)
    bottom.move_to(columns["Ideas"], after=a)

    assert positions(columns["Ideas"]) == [
        ("Top", 5000 - POSITION_GAP),
        ("A", 5000),
        ("Bottom", 5000 + POSITION_GAP),
    ]


def test_a_card_moved_to_the_top_lands_one_gap_above_the_first(columns):
    ImprovementFactory(title="A", column=columns["Ideas"], position=5000)
    mover = ImprovementFactory(title="M", column=columns["Next"])

    mover.move_to(columns["Ideas"])

    assert positions(columns["Ideas"]) == [("M", 5000 - POSITION_GAP), ("A", 5000)]


def test_a_card_moved_to_the_bottom_lands_one_gap_below_the_last(columns):
    cards_at(columns["Ideas"], A=5000, B=6000)
    mover = ImprovementFactory(title="M", column=columns["Next"])

    mover.move_to(columns["Ideas"], to_bottom=True)

    assert positions(columns["Ideas"])[-1] == ("M", 6000 + POSITION_GAP)


def test_a_gap_of_two_still_takes_a_card_without_respacing(columns):
    _, b = cards_at(columns["Ideas"], A=1, B=3)
    c = ImprovementFactory(title="C", column=columns["Next"])

    c.move_to(columns["Ideas"], before=b)

    assert positions(columns["Ideas"]) == [("A", 1), ("C", 2), ("B", 3)]


def test_neighbours_without_a_gap_are_respaced_one_gap_apart_in_order(columns):
    a, _, _ = cards_at(columns["Ideas"], A=-7, B=-6, D=40)
    c = ImprovementFactory(title="C", column=columns["Next"])

    c.move_to(columns["Ideas"], after=a)

    assert positions(columns["Ideas"]) == [
        ("A", POSITION_GAP),
        ("C", POSITION_GAP + POSITION_GAP // 2),
        ("B", 2 * POSITION_GAP),
        ("D", 3 * POSITION_GAP),
    ]


def test_landing_before_a_card_puts_it_between_that_card_and_the_one_above(columns):
    _, _, c = cards_at(columns["Ideas"], A=1000, B=2000, C=3000)
    mover = ImprovementFactory(title="M", column=columns["Next"])

    mover.move_to(columns["Ideas"], before=c.pk)

    assert positions(columns["Ideas"])[2:] == [("M", 2500), ("C", 3000)]


def test_landing_after_a_card_puts_it_between_that_card_and_the_one_below(columns):
    a, _, _ = cards_at(columns["Ideas"], A=1000, B=2000, C=3000)
    mover = ImprovementFactory(title="M", column=columns["Next"])

    mover.move_to(columns["Ideas"], after=a.pk)

    assert positions(columns["Ideas"])[:3] == [("A", 1000), ("M", 1500), ("B", 2000)]


def test_a_card_moved_down_its_own_column_skips_its_old_place(columns):
    a, b, _ = cards_at(columns["Ideas"], A=1000, B=2000, C=3000)

    a.move_to(columns["Ideas"], after=b)

    assert positions(columns["Ideas"]) == [("B", 2000), ("A", 2500), ("C", 3000)]


# --- Moves that are refused --------------------------------------------------------------------


def test_a_card_cannot_land_before_itself(columns):
    card = ImprovementFactory(column=columns["Ideas"])

    with pytest.raises(MoveError, match=r"^A card cannot land next to itself\.$"):
        card.move_to(columns["Ideas"], before=card.pk)


def test_a_neighbour_named_by_id_from_another_column_is_refused(columns):
    card = ImprovementFactory(column=columns["Ideas"])
    elsewhere = ImprovementFactory(column=columns["Done"])

    message = r"^The card to land next to is no longer in that column\.$"
    with pytest.raises(MoveError, match=message):
        card.move_to(columns["Next"], before=elsewhere.pk)
    with pytest.raises(MoveError, match=message):
        card.move_to(columns["Next"], after=elsewhere)

    assert fresh(card).column == columns["Ideas"]
    assert not Event.objects.filter(kind=Event.Kind.MOVED).exists()


def test_a_move_to_a_column_that_no_longer_exists_is_refused(columns):
    card = ImprovementFactory(column=columns["Ideas"])
    gone = ColumnFactory()
    gone_id = gone.pk
    gone.delete()

    with pytest.raises(MoveError, match=r"^That column no longer exists\.$"):
        card.move_to(gone_id)

    assert fresh(card).column == columns["Ideas"]


def test_moving_a_card_someone_deleted_is_refused(columns):
    card = ImprovementFactory(column=columns["Ideas"])
    Improvement.objects.filter(pk=card.pk).delete()

    with pytest.raises(MoveError, match=r"^This card no longer exists\.$"):
        card.move_to(columns["Next"])

    assert not Event.objects.filter(kind=Event.Kind.MOVED).exists()


def test_a_stale_copy_moved_to_done_keeps_the_start_made_meanwhile(columns):
    # Two open tabs: one starts the card, the other (still showing it in Next) finishes it.
    stale = ImprovementFactory(column=columns["Next"])
    current = fresh(stale)
    current.move_to(columns["In progress"])

    stale.move_to(columns["Done"])

    card = fresh(stale)
    assert card.started_at == current.started_at
    assert card.done_at > card.started_at
    assert stale.started_at == current.started_at


def test_a_stale_finished_copy_moved_between_finished_columns_keeps_its_finish(columns, dropped):
    stale = ImprovementFactory(column=columns["In progress"], started_at=LONG_AGO)
    current = fresh(stale)
    current.move_to(columns["Done"])

    stale.move_to(dropped)

    assert fresh(stale).done_at == current.done_at


class SomeoneElseMoves:
    """Moves the card away under the mover's feet on the first `times` attempts."""

    def __init__(self, monkeypatch, card, away, times):
        self.card, self.away, self.times, self.attempts = card, away, times, 0
        self.home = card.column_id
        self.read_neighbours = Improvement._neighbour_positions
        monkeypatch.setattr(
            Improvement, "_neighbour_positions", lambda card, *a: self.neighbour_positions(card, *a)
        )

    def neighbour_positions(self, card, *args):
        self.attempts += 1
        if self.attempts <= self.times:
            # Put it anywhere but where the mover believes it is.
            elsewhere = self.away if card.column_id == self.home else self.home
            Improvement.objects.filter(pk=card.pk).update(column_id=elsewhere)
        return self.read_neighbours(card, *args)


def test_a_move_tries_again_from_where_the_card_is_now(columns, monkeypatch):
    card = ImprovementFactory(column=columns["Ideas"])
    someone = SomeoneElseMoves(monkeypatch, card, away=columns["Next"].pk, times=2)

    changed = card.move_to(columns["Done"])

    assert someone.attempts == 3
    assert fresh(card).column == columns["Done"]
    assert changed == {columns["Ideas"].pk, columns["Done"].pk}
    assert Event.objects.filter(kind=Event.Kind.MOVED).count() == 1


def test_a_move_gives_up_after_three_attempts_with_a_clear_message(columns, monkeypatch):
    card = ImprovementFactory(column=columns["Ideas"])
    someone = SomeoneElseMoves(monkeypatch, card, away=columns["Next"].pk, times=99)

    with pytest.raises(MoveError, match=r"^The board changed while moving this card; try again\.$"):
        card.move_to(columns["Done"])

    assert someone.attempts == 3
    assert not Event.objects.filter(kind=Event.Kind.MOVED).exists()


# --- The board's counts ------------------------------------------------------------------------


def test_board_counts_of_no_columns_are_empty(db):
    assert Improvement.board_counts([]) == {}


def test_board_counts_of_an_empty_column_are_zero(columns):
    ImprovementFactory(column=columns["Ideas"])

    counts = Improvement.board_counts([columns["Next"], columns["Done"]])

    assert counts == {columns["Next"].pk: (0, 0), columns["Done"].pk: (0, 0)}


def test_board_counts_count_the_cards_above_a_position(columns):
    for position in (1000, 2000, 3000):
        ImprovementFactory(column=columns["Ideas"], position=position)

    assert Improvement.board_counts([columns["Ideas"]], above=2000) == {columns["Ideas"].pk: (3, 1)}
    assert Improvement.board_counts([columns["Ideas"]], above=2001) == {columns["Ideas"].pk: (3, 2)}
    assert Improvement.board_counts([columns["Ideas"]]) == {columns["Ideas"].pk: (3, 0)}


def test_board_counts_leave_out_finished_cards_past_the_cutoff_unless_all_are_shown(columns):
    just_inside = timezone.now() - FINISHED_CARDS_SHOWN_FOR + datetime.timedelta(minutes=5)
    just_outside = timezone.now() - FINISHED_CARDS_SHOWN_FOR - datetime.timedelta(minutes=5)
    ImprovementFactory(column=columns["Done"], column_entered_at=just_inside)
    ImprovementFactory(column=columns["Done"], column_entered_at=just_outside)
    ImprovementFactory(column=columns["Ideas"], column_entered_at=LONG_AGO)
    ImprovementFactory(column=columns["Done"], archived_at=timezone.now())
    board = [columns["Ideas"], columns["Done"]]

    assert Improvement.board_counts(board) == {
        columns["Ideas"].pk: (1, 0),
        columns["Done"].pk: (1, 0),
    }
    assert Improvement.board_counts(board, show_all=True) == {
        columns["Ideas"].pk: (1, 0),
        columns["Done"].pk: (2, 0),
    }


def test_board_counts_of_two_finished_columns_keep_them_apart(columns, dropped):
    ImprovementFactory(column=columns["Done"])
    ImprovementFactory.create_batch(2, column=dropped)

    assert Improvement.board_counts([columns["Done"], dropped]) == {
        columns["Done"].pk: (1, 0),
        dropped.pk: (2, 0),
    }


# --- Archiving and dropping ----------------------------------------------------------------------


def test_archiving_stamps_the_card_once_and_logs_it(columns, owner):
    card = ImprovementFactory(column=columns["Ideas"])

    card.archive(actor=owner)
    stamped = fresh(card).archived_at
    card.archive(actor=owner)

    assert stamped is not None and fresh(card).archived_at == stamped
    events = Event.objects.filter(improvement=card, kind=Event.Kind.ARCHIVED)
    assert [event.actor for event in events] == [owner]


def test_unarchiving_brings_the_card_back_once_and_logs_it(columns, owner):
    card = ImprovementFactory(column=columns["Ideas"], archived_at=LONG_AGO)

    card.unarchive(actor=owner)
    card.unarchive(actor=owner)

    assert fresh(card).archived_at is None
    events = Event.objects.filter(improvement=card, kind=Event.Kind.UNARCHIVED)
    assert [event.actor for event in events] == [owner]


def test_unarchiving_an_open_card_changes_nothing(columns, owner):
    card = ImprovementFactory(column=columns["Ideas"])

    card.unarchive(actor=owner)

    assert not Event.objects.filter(improvement=card).exists()


def test_dropping_a_card_moves_it_to_the_top_of_the_dropped_column(columns, dropped, owner):
    ImprovementFactory(title="Already", column=dropped, position=5000)
    ColumnFactory(name="Dropped later", state=Column.State.DROPPED, position=60)
    card = ImprovementFactory(title="Card", column=columns["In progress"], started_at=LONG_AGO)

    changed = card.drop("Not worth it", actor=owner)

    card = fresh(card)
    assert changed == {columns["In progress"].pk, dropped.pk}
    assert (card.column, card.dropped_reason, card.archived_at) == (dropped, "Not worth it", None)
    assert card.done_at is not None and card.started_at == LONG_AGO
    assert positions(dropped) == [("Card", 5000 - POSITION_GAP), ("Already", 5000)]
    event = Event.objects.get(improvement=card, kind=Event.Kind.DROPPED)
    assert (event.actor, event.data, event.to_column) == (
        owner,
        {"reason": "Not worth it"},
        dropped,
    )
    assert Event.objects.filter(improvement=card, kind=Event.Kind.MOVED, actor=owner).count() == 1


def test_without_a_dropped_column_a_dropped_card_is_archived_where_it_is(columns, owner):
    card = ImprovementFactory(column=columns["Next"])

    changed = card.drop("Duplicate", actor=owner)

    card = fresh(card)
    assert changed == {columns["Next"].pk}
    assert (card.column, card.dropped_reason) == (columns["Next"], "Duplicate")
    assert card.archived_at is not None
    event = Event.objects.get(improvement=card, kind=Event.Kind.DROPPED)
    assert (event.actor, event.data, event.to_column) == (owner, {"reason": "Duplicate"}, None)


def test_the_first_dropped_column_is_the_one_cards_are_dropped_into(db):
    assert Column.dropped_column() is None
    later = ColumnFactory(state=Column.State.DROPPED, position=90)
    first = ColumnFactory(state=Column.State.DROPPED, position=80)
    ColumnFactory(state=Column.State.DONE, position=70)

    assert Column.dropped_column() == first != later


def test_only_unfinished_columns_with_a_limit_have_a_wip_limit(columns, dropped):
    assert columns["In progress"].has_wip_limit is True
    assert columns["Ideas"].has_wip_limit is False
    assert ColumnFactory(state=Column.State.DONE, wip_limit=3).has_wip_limit is False
    assert ColumnFactory(state=Column.State.DROPPED, wip_limit=3).has_wip_limit is False
    assert [name for name, column in columns.items() if column.is_finished] == ["Done"]
    assert dropped.is_finished is True
    assert str(columns["In progress"]) == "In progress"


def test_the_board_shows_open_cards_and_recently_finished_ones(columns):
    recent = ImprovementFactory(column=columns["Done"])
    ImprovementFactory(column=columns["Done"], column_entered_at=LONG_AGO)
    old_idea = ImprovementFactory(column=columns["Ideas"], column_entered_at=LONG_AGO)
    ImprovementFactory(column=columns["Ideas"], archived_at=timezone.now())
    finished = [columns["Done"].pk]

    assert set(Improvement.objects.on_board(finished)) == {recent, old_idea}
    assert Improvement.objects.on_board(finished, show_all=True).count() == 3
    assert Improvement.objects.on_board([]).count() == 3
    assert Improvement.objects.open().count() == 3


def test_a_card_between_neighbours_an_odd_distance_apart_lands_on_a_whole_position(columns):
    _, b = cards_at(columns["Ideas"], A=1000, B=1003)
    c = ImprovementFactory(title="C", column=columns["Next"])

    c.move_to(columns["Ideas"], before=b)

    assert positions(columns["Ideas"]) == [("A", 1000), ("C", 1001), ("B", 1003)]
    assert c.position == 1001


def test_board_counts_ahead_of_nothing_by_default_even_at_position_zero(columns):
    ImprovementFactory(column=columns["Ideas"], position=0)
    ImprovementFactory(column=columns["Ideas"], position=-5)

    assert Improvement.board_counts([columns["Ideas"]]) == {columns["Ideas"].pk: (2, 1)}


def test_archiving_a_stale_copy_does_not_undo_a_move_made_meanwhile(columns):
    stale = ImprovementFactory(column=columns["Ideas"])
    fresh(stale).move_to(columns["Next"])

    stale.archive()

    assert fresh(stale).column == columns["Next"]
    assert fresh(stale).archived_at is not None


def test_unarchiving_a_stale_copy_does_not_undo_a_move_made_meanwhile(columns):
    stale = ImprovementFactory(column=columns["Ideas"], archived_at=LONG_AGO)
    fresh(stale).move_to(columns["Next"])

    stale.unarchive()

    assert (fresh(stale).column, fresh(stale).archived_at) == (columns["Next"], None)


def test_dropping_a_stale_copy_keeps_the_start_made_meanwhile(columns, dropped):
    stale = ImprovementFactory(column=columns["Ideas"])
    current = fresh(stale)
    current.move_to(columns["In progress"])

    stale.drop("Too late")

    card = fresh(stale)
    assert card.started_at == current.started_at
    assert (card.column, card.dropped_reason) == (dropped, "Too late")


def test_archiving_a_dropped_stale_copy_keeps_the_column_it_was_moved_to(columns):
    stale = ImprovementFactory(column=columns["Ideas"])
    fresh(stale).move_to(columns["Next"])

    stale.drop("Duplicate")

    assert (fresh(stale).column, fresh(stale).dropped_reason) == (columns["Next"], "Duplicate")
