"""Fixtures of the board and metrics tests."""

import pytest

from improvements.reporting.metrics import Filters
from tests.factories import ImprovementFactory
from tests.improvements.metrics_helpers import END, START


@pytest.fixture
def ideas(columns):
    """Cards A, B and C in the Ideas column, in that order."""
    return [ImprovementFactory(title=title, column=columns["Ideas"]) for title in "ABC"]


@pytest.fixture
def filters(db):
    """The dashboard's filters for the four weeks of the metrics tests, START to END."""
    return Filters(start=START, end=END)
