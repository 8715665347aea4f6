"""Fixtures of the board tests."""

import pytest

from tests.factories import ImprovementFactory


@pytest.fixture
def ideas(columns):
    """Cards A, B and C in the Ideas column, in that order."""
    return [ImprovementFactory(title=title, column=columns["Ideas"]) for title in "ABC"]
