"""Moving a card through the board's move view: drag and drop, move up/down and the move form."""

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from improvements.models import Event, Improvement
from tests.factories import ImprovementFactory, UnitFactory, UserFactory
from tests.improvements.board_helpers import HTMX, move, titles_in


def test_it_moves_a_card_down_within_its_column(owner_client, ideas, columns):
    response = move(owner_client, ideas[0], columns["Ideas"], after=ideas[1].pk)
    assert response.status_code == 200
    assert titles_in(columns["Ideas"]) == ["B", "A", "C"]


def test_it_moves_a_card_up_by_naming_the_card_it_lands_before(owner_client, ideas, columns):
    move(owner_client, ideas[2], columns["Ideas"], before=ideas[1].pk)
    assert titles_in(columns["Ideas"]) == ["A", "C", "B"]


def test_it_moves_a_card_across_columns_after_a_neighbour(owner_client, ideas, columns, owner):
    x, y = (ImprovementFactory(title=t, column=columns["Next"]) for t in "XY")
    move(owner_client, ideas[1], columns["Next"], after=x.pk)
    assert titles_in(columns["Next"]) == ["X", "B", "Y"]
    assert titles_in(columns["Ideas"]) == ["A", "C"]
    event = Event.objects.get(kind="moved")
    assert (event.from_column, event.to_column, event.actor) == (
        columns["Ideas"],
        columns["Next"],
        owner,
    )
    assert y.pk


def test_it_moves_a_card_to_the_top_and_to_the_bottom(owner_client, ideas, columns):
    move(owner_client, ideas[2], columns["Ideas"], place="top")
    assert titles_in(columns["Ideas"]) == ["C", "A", "B"]
    move(owner_client, ideas[2], columns["Ideas"], place="bottom")
    assert titles_in(columns["Ideas"]) == ["A", "B", "C"]


def test_the_move_form_lands_a_card_after_a_chosen_card(owner_client, ideas, columns):
    move(owner_client, ideas[0], columns["Ideas"], place=f"after-{ideas[2].pk}")
    assert titles_in(columns["Ideas"]) == ["B", "C", "A"]


def test_it_moves_a_card_into_an_empty_column(owner_client, ideas, columns):
    response = move(owner_client, ideas[0], columns["In progress"], place="top")
    assert titles_in(columns["In progress"]) == ["A"]
    assert Improvement.objects.get(pk=ideas[0].pk).started_at is not None
    assert "Moved “A” to In progress, position 1 of 1." in response.content.decode()


def test_a_move_over_the_wip_limit_is_allowed_and_marked(owner_client, columns):
    columns["In progress"].wip_limit = 1
    columns["In progress"].save()
    ImprovementFactory(column=columns["In progress"])
    card = ImprovementFactory(column=columns["Ideas"])
    response = move(owner_client, card, columns["In progress"], place="bottom")
    assert response.status_code == 200
    assert Improvement.objects.get(pk=card.pk).column == columns["In progress"]
    html = response.content.decode()
    assert "over-limit" in html and "2 / 1" in html


def test_the_counts_after_a_move_leave_out_long_finished_cards_as_the_board_does(
    owner_client, ideas, columns
):
    long_ago = timezone.now() - datetime.timedelta(weeks=10)
    ImprovementFactory(column=columns["Done"], column_entered_at=long_ago)
    ImprovementFactory(column=columns["Done"], archived_at=timezone.now())
    recent = ImprovementFactory(title="Recent", column=columns["Done"])
    response = move(owner_client, ideas[1], columns["Done"], after=recent.pk)
    html = response.content.decode()
    assert "Moved “B” to Done, position 2 of 2." in html
    assert '<span class="wip">2<span class="visually-hidden"> cards' in html


def landing(response) -> dict:
    return json.loads(response["HX-Trigger-After-Settle"])["cardMoved"]


def test_htmx_gets_the_changed_column_headers_and_where_the_card_lands(
    owner_client, ideas, columns
):
    response = move(owner_client, ideas[0], columns["Next"], place="top")
    html = response.content.decode()
    assert "<section" not in html and "<html" not in html
    assert 'class="board-card' not in html
    assert f'id="column-{columns["Ideas"].pk}-header"' in html
    assert f'id="column-{columns["Next"].pk}-header"' in html
    assert landing(response) == {
        "card": ideas[0].pk,
        "column": columns["Next"].pk,
        "after": None,
        "before": None,
        "bottom": False,
    }


def test_the_page_is_told_the_neighbour_the_card_lands_next_to(owner_client, ideas, columns):
    response = move(owner_client, ideas[2], columns["Ideas"], after=ideas[0].pk)
    assert landing(response)["after"] == ideas[0].pk
    response = move(owner_client, ideas[0], columns["Ideas"], before=ideas[2].pk)
    assert landing(response)["before"] == ideas[2].pk


def test_a_move_within_one_column_answers_with_that_column_header_only(
    owner_client, ideas, columns
):
    response = move(owner_client, ideas[0], columns["Ideas"], place="bottom")
    assert response.content.decode().count("<header") == 1
    assert landing(response)["bottom"] is True


def test_the_answer_does_not_grow_with_the_column(owner_client, columns):
    from tests.factories import ImprovementFactory

    cards = [ImprovementFactory(column=columns["Ideas"]) for _ in range(40)]
    small = move(owner_client, cards[0], columns["Ideas"], place="bottom").content
    large = move(owner_client, cards[1], columns["Ideas"], place="bottom").content
    assert abs(len(small) - len(large)) < 200
    assert len(large) < 4000


def test_a_filtered_board_gets_whole_columns(owner_client, ideas, columns):
    response = owner_client.post(
        f"/board/cards/{ideas[0].pk}/move/?q=A",
        {"column": columns["Next"].pk, "place": "top"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert html.count("<section") == 2
    assert 'hx-swap-oob="true"' in html


def test_without_javascript_it_redirects_to_the_card_on_the_filtered_board(
    owner_client, ideas, columns
):
    response = move(owner_client, ideas[0], columns["Next"], htmx=False, query="?q=A", place="top")
    assert response.status_code == 302
    assert response["Location"] == reverse("board:board") + f"?q=A#card-{ideas[0].pk}"
    assert titles_in(columns["Next"]) == ["A"]


def test_a_move_on_a_filtered_board_lands_after_the_visible_neighbour(owner_client, columns, unit):
    # The board shows only Payments' cards: P1, P2. Hidden between them: H.
    p1 = ImprovementFactory(title="P1", unit=unit, column=columns["Next"])
    ImprovementFactory(title="H", column=columns["Next"])
    p2 = ImprovementFactory(title="P2", unit=unit, column=columns["Next"])
    card = ImprovementFactory(title="N", unit=unit, column=columns["Ideas"])
    response = move(owner_client, card, columns["Next"], query=f"?unit={unit.pk}", after=p1.pk)
    assert titles_in(columns["Next"]) == ["P1", "N", "H", "P2"]
    html = response.content.decode()
    assert "P2" in html and ">H<" not in html
    assert "position 2 of 3" in html
    assert p2.pk


def test_a_stale_neighbour_is_refused_and_nothing_moves(owner_client, ideas, columns):
    elsewhere = ImprovementFactory(title="Gone", column=columns["Done"])
    response = move(owner_client, ideas[0], columns["Ideas"], after=elsewhere.pk)
    assert response.status_code == 409
    assert titles_in(columns["Ideas"]) == ["A", "B", "C"]
    assert not Event.objects.filter(kind="moved").exists()


def test_a_missing_column_is_refused(owner_client, ideas):
    response = owner_client.post(
        reverse("board:card_move", args=[ideas[0].pk]), {"column": 999999}, **HTMX
    )
    assert response.status_code == 409
    assert Improvement.objects.get(pk=ideas[0].pk).column_id == ideas[0].column_id


def test_naming_two_neighbours_is_a_bad_request(owner_client, ideas, columns):
    response = move(owner_client, ideas[0], columns["Ideas"], after=ideas[1].pk, before=ideas[2].pk)
    assert response.status_code == 400


def test_it_rejects_get_on_a_move_with_the_move_form(owner_client, ideas):
    response = owner_client.get(reverse("board:card_move", args=[ideas[0].pk]), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="column"' in html and f'value="after-{ideas[1].pk}"' in html
    assert f'value="after-{ideas[0].pk}"' not in html


@pytest.mark.parametrize("who", ["owner", "teammate", "staff"])
def test_unit_members_and_staff_may_move(client, who, request, unit, ideas, columns):
    client.force_login(request.getfixturevalue(who))
    assert move(client, ideas[0], columns["Next"], place="top").status_code == 200
    assert titles_in(columns["Next"]) == ["A"]


def test_an_outsider_may_not_move(outsider_client, ideas, columns):
    response = move(outsider_client, ideas[0], columns["Next"], place="top")
    assert response.status_code == 403
    assert titles_in(columns["Next"]) == []


def test_a_move_costs_a_fixed_number_of_queries(client, columns, django_assert_max_num_queries):
    # Queries: session, user, card with permission, lock, neighbours, update, event,
    # changed columns' cards; plus the savepoint pair that only exists because the test
    # itself runs inside a transaction.
    member = UserFactory(username="member")
    UnitFactory(members=[member])
    client.force_login(member)
    for index in range(40):
        ImprovementFactory(column=columns["Ideas" if index % 2 else "Next"])
    card = ImprovementFactory(column=columns["Ideas"])
    neighbour = Improvement.objects.filter(column=columns["Next"]).first()
    with django_assert_max_num_queries(10) as captured:
        response = move(client, card, columns["Next"], after=neighbour.pk)
    real = [q for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(real) <= 8
    assert response.status_code == 200
    assert Improvement.objects.get(pk=card.pk).column == columns["Next"]


def test_without_javascript_the_move_form_is_a_page_of_its_own(owner_client, ideas):
    response = owner_client.get(reverse("board:card_move", args=[ideas[0].pk]))
    html = response.content.decode()
    assert "<html" in html
    assert 'id="move-column"' in html and 'id="card-detail"' in html
