"""A week is written one way per purpose, by retros.weeks, wherever it is shown."""

import datetime

import pytest
from django.utils import timezone

from retros.weeks import monday_label, monday_of, parse_iso_week, week_label
from tests.factories import DutyWeekFactory, ProcessStepFactory


@pytest.mark.parametrize(
    ("day", "label", "monday"),
    [
        (datetime.date(2026, 2, 9), "2026-W07", datetime.date(2026, 2, 9)),
        (datetime.date(2026, 2, 15), "2026-W07", datetime.date(2026, 2, 9)),
        # The first days of January can belong to the last week of the year before.
        (datetime.date(2027, 1, 1), "2026-W53", datetime.date(2026, 12, 28)),
        # And the last days of December to the first week of the next year.
        (datetime.date(2025, 12, 31), "2026-W01", datetime.date(2025, 12, 29)),
    ],
)
def test_a_day_has_one_iso_week_label_and_one_monday(day, label, monday):
    assert week_label(day) == label
    assert monday_of(day) == monday
    assert parse_iso_week(label) == monday
    assert monday_label(monday) == monday.isoformat()


def test_a_duty_week_is_labelled_by_its_iso_week(db):
    week = DutyWeekFactory(week_start=datetime.date(2026, 12, 28))

    assert week.iso_label == "2026-W53"


def test_the_process_page_labels_its_weeks_by_iso_week(client, owner):
    ProcessStepFactory()
    client.force_login(owner)

    page = client.get("/process/?weeks=3").content.decode()

    this_monday = monday_of(timezone.localdate())
    rows = [this_monday - datetime.timedelta(weeks=n) for n in range(3)]
    for monday in rows:
        year, number, _ = monday.isocalendar()
        assert f'<th scope="row">{year}-W{number:02d}</th>' in page
    assert page.count('<th scope="row">') >= 3
