"""CSV cells that spreadsheets show as text instead of running as formulas, for every export."""

import datetime
from decimal import Decimal

from django.utils import timezone

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> str:
    """A cell value as text that spreadsheets show instead of evaluating.

    Every CSV the app writes passes each cell (headers too) through here. A number stays a
    number: a spreadsheet reads "-3.5" as minus three and a half, never as a formula.
    """
    if value is None:
        return ""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat(timespec="minutes")
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text
