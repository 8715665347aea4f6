"""The shared fixtures: a database only for tests that ask for one, the seeded board in each."""

import pytest

from improvements.models import Category, Column

SEEDED_COLUMNS = ["Ideas", "Next", "In progress", "Done"]


def seeded_board():
    return list(Column.objects.order_by("position").values_list("name", flat=True))


def test_a_test_that_asks_for_no_database_cannot_reach_one():
    with pytest.raises(RuntimeError, match="Database access not allowed"):
        Column.objects.exists()


def test_a_test_with_the_database_finds_the_seeded_columns_and_categories(db):
    assert seeded_board() == SEEDED_COLUMNS
    assert Category.objects.count() == 8


@pytest.mark.parametrize("run", [1, 2])
@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_finds_them_too_after_another_one_flushed_them(run):
    assert seeded_board() == SEEDED_COLUMNS
    Column.objects.filter(name="Next").delete()
