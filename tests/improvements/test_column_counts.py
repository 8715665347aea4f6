"""A column's count means one thing on the board, the filtered board and the dashboard."""

import csv
import datetime
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from improvements.models import COUNT_RULE, Column
from tests.factories import ImprovementFactory


@pytest.fixture
def done(columns):
    """Done holds 2 cards finished this week and 5 finished ten weeks ago."""
    column = Column.objects.get(state=Column.State.DONE)
    now = timezone.now()
    long_ago = now - datetime.timedelta(weeks=10)
    for n in range(2):
        ImprovementFactory(column=column, title=f"Recent {n}", done_at=now, column_entered_at=now)
    for n in range(5):
        ImprovementFactory(
            column=column, title=f"Old {n}", done_at=long_ago, column_entered_at=long_ago
        )
    return column


def header_count(page: str, column: Column) -> int:
    match = re.search(rf'id="column-{column.pk}-header".*?<span class="wip">(\d+)', page, re.DOTALL)
    assert match, f"no header for {column}"
    return int(match.group(1))


def dashboard_count(client, name: str) -> int:
    rows = csv.reader(
        io.StringIO(client.get(reverse("reporting:dashboard_csv", args=["wip"])).text)
    )
    return next(int(row[1]) for row in rows if row and row[0] == name)


def test_the_board_the_filtered_board_and_the_dashboard_agree(outsider_client, done):
    board = outsider_client.get(reverse("board:board")).text
    filtered = outsider_client.get(reverse("board:board"), {"q": "Recent 1"}).text

    assert header_count(board, done) == 2
    assert header_count(filtered, done) == 2
    assert "1 shown" in filtered
    assert dashboard_count(outsider_client, "Done") == 2


def test_a_filter_matching_only_hidden_cards_shows_none_and_counts_the_same(outsider_client, done):
    filtered = outsider_client.get(reverse("board:board"), {"q": "Old"}).text
    assert header_count(filtered, done) == 2
    assert "0 shown" in filtered


def test_showing_older_cards_counts_them_on_every_board(outsider_client, done):
    board = outsider_client.get(reverse("board:board"), {"all": "1"}).text
    filtered = outsider_client.get(reverse("board:board"), {"all": "1", "q": "Old"}).text

    assert header_count(board, done) == 7
    assert header_count(filtered, done) == 7
    assert "5 shown" in filtered
    assert "Counting every finished card." in board


def test_the_rule_is_stated_where_the_counts_are_shown(outsider_client, done):
    board = outsider_client.get(reverse("board:board")).text
    panel = outsider_client.get(reverse("reporting:dashboard_panel", args=["wip"])).text

    assert "Counting cards finished in the last 4 weeks." in board
    assert COUNT_RULE in panel


def test_open_columns_count_every_open_card_whatever_its_age(outsider_client, columns):
    ideas = Column.objects.order_by("position").first()
    long_ago = timezone.now() - datetime.timedelta(weeks=30)
    ImprovementFactory(column=ideas, column_entered_at=long_ago)
    ImprovementFactory(column=ideas)
    ImprovementFactory(column=ideas, archived_at=timezone.now())

    board = outsider_client.get(reverse("board:board")).text

    assert header_count(board, ideas) == 2
    assert dashboard_count(outsider_client, ideas.name) == 2
