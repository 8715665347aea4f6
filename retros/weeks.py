"""ISO weeks written like 2026-W07, and the span of dates the app works with: one place for both.

Every view, form and API that takes a week or a date from outside goes through here, so a
week 53 that does not exist, or a year whose weeks run past the end of Python's calendar,
gets one clear message instead of an error somewhere deeper.
"""

import datetime
import re

# Far enough either way for any real deployment or retro, and far from the ends of Python's
# and PostgreSQL's calendars, so a week or a time zone either side never overflows.
FIRST_YEAR, LAST_YEAR = 1970, 2999
WEEK_FORMAT = re.compile(r"(\d{4})-?W(\d{1,2})", re.IGNORECASE)


class WeekError(ValueError):
    """A week label that is malformed, out of range or names a week the year does not have."""


def weeks_in(year: int) -> int:
    """52 or 53: 28 December always falls in a year's last ISO week."""
    return datetime.date(year, 12, 28).isocalendar().week


def parse_iso_week(label: str) -> datetime.date:
    """The Monday of an ISO week written like 2026-W07; WeekError says what is wrong."""
    match = WEEK_FORMAT.fullmatch(label.strip())
    if match is None:
        raise WeekError("Write the week as YYYY-Www, for example 2026-W07.")
    year, week = int(match.group(1)), int(match.group(2))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise WeekError(f"Pick a week between {FIRST_YEAR} and {LAST_YEAR}.")
    if not 1 <= week <= weeks_in(year):
        raise WeekError(
            f"{year}-W{week:02d} does not exist: {year} has weeks W01 to W{weeks_in(year)}."
        )
    return datetime.date.fromisocalendar(year, week, 1)


def monday_of(day: datetime.date) -> datetime.date:
    """The Monday of the ISO week a day falls in: how every week is keyed."""
    return day - datetime.timedelta(days=day.weekday())


def week_label(day: datetime.date) -> str:
    """The ISO week a day falls in, written like 2026-W07."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def monday_label(monday: datetime.date) -> str:
    """A week named by its Monday's date, 2026-02-09: the dashboards' axes, tables and CSV
    columns (they sort as text and read as dates in a spreadsheet)."""
    return monday.isoformat()


def within_app_years(moment: datetime.datetime | datetime.date) -> bool:
    """True when the moment (in UTC, if it has a time zone) falls in FIRST_YEAR..LAST_YEAR."""
    if isinstance(moment, datetime.datetime) and moment.tzinfo is not None:
        try:
            moment = moment.astimezone(datetime.UTC)
        except OverflowError:  # e.g. 0001-01-01T00:00+05:00 is in year 0 in UTC
            return False
    return FIRST_YEAR <= moment.year <= LAST_YEAR
