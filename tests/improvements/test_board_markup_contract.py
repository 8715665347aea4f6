"""The board's markup contract with board.js, listed in improvements/board_cards.py, holds:
every id, class, data-* attribute and event it lists is rendered, and board.js uses each."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from improvements import board_cards
from tests.factories import ImprovementFactory

BOARD_JS = (Path(settings.BASE_DIR) / "static" / "js" / "board.js").read_text()

# Each name the contract lists, as the docstring writes it and as board.js uses it.
CONTRACT = {
    "li.board-card": "li.board-card",
    'id="card-{pk}"': '"card-"',
    "li.board-card > a": "li.board-card > a",
    "#board": '"board"',
    "data-can-edit": "dataset.canEdit",
    "data-etag": "dataset.etag",
    "data-poll-url": "dataset.pollUrl",
    "data-move-url": "dataset.moveUrl",
    "/0/": '"/0/"',
    "section.board-column": "section.board-column",
    'id="column-{pk}"': "return s.id",
    "ul.cards": ".cards[data-column]",
    'id="cards-{pk}"': '"cards-"',
    'data-column="{pk}"': "dataset.column",
    "#board-status": '"board-status"',
    "#card-dialog": '"card-dialog"',
    "#card-dialog-body": '"card-dialog-body"',
    "#move-column": "move-column",
    "#move-place": '"move-place"',
    "optgroup[data-column]": "optgroup",
    "cardMoved": '"cardMoved"',
    "cardAdded": '"cardAdded"',
    "cardChanged": '"cardChanged"',
}


def test_the_contract_is_documented_in_board_cards_and_board_js_points_there():
    documented = board_cards.__doc__
    assert "static/js/board.js" in documented
    assert "improvements/board_cards.py" in BOARD_JS
    missing_in_doc = [name for name in CONTRACT if f"``{name}``" not in documented]
    assert missing_in_doc == []


def test_board_js_uses_every_name_the_contract_lists():
    unused = [name for name, used_as in CONTRACT.items() if used_as not in BOARD_JS]
    assert unused == []
    assert len(CONTRACT) == 23


@pytest.fixture
def card(columns):
    return ImprovementFactory(title="Automate the <smoke> test", column=columns["Next"])


def test_the_rendered_board_carries_every_id_class_and_attribute_board_js_reads(
    owner_client, card, columns
):
    html = owner_client.get(reverse("board:board")).content.decode()
    column = columns["Next"].pk
    detail = reverse("board:improvement_detail", args=[card.pk])

    assert (
        f'<li class="board-card cat-{card.category_id}" id="card-{card.pk}">'
        f'<a href="{detail}">Automate the &lt;smoke&gt; test</a><div class="meta">'
    ) in html
    board = re.search(r'<div class="board" id="board"([^>]*)>', html).group(1)
    assert 'data-can-edit="true"' in board
    assert re.search(r'data-etag="[^"]+"', board)
    assert f'data-poll-url="{reverse("board:board")}"' in board
    assert f'data-move-url="{reverse("board:card_move", args=[0])}"' in board
    assert "/0/" in reverse("board:card_move", args=[0])
    assert re.search(rf'<section class="board-column [^"]*" id="column-{column}"', html)
    assert f'<ul class="cards" id="cards-{column}" data-column="{column}"' in html
    for element_id in ("board-status", "card-dialog", "card-dialog-body"):
        assert f'id="{element_id}"' in html

    ImprovementFactory(column=columns["Ideas"])
    move_form = owner_client.get(reverse("board:card_move", args=[card.pk])).content.decode()
    assert 'id="move-column"' in move_form
    assert 'id="move-place"' in move_form
    assert re.search(rf'<optgroup [^>]*data-column="{columns["Ideas"].pk}"', move_form)


def test_a_move_answers_with_the_event_board_js_lands_the_card_by(owner_client, card, columns):
    response = owner_client.post(
        reverse("board:card_move", args=[card.pk]),
        {"column": columns["Ideas"].pk},
        HTTP_HX_REQUEST="true",
    )

    trigger = json.loads(response["HX-Trigger-After-Settle"])
    assert set(trigger["cardMoved"]) == {"card", "column", "after", "before", "bottom"}
    assert trigger["cardMoved"]["card"] == card.pk
