"""iCalendar (RFC 5545) feeds of duty weeks, one per unit and one per person, behind secret URLs."""

import datetime
import re
from collections.abc import Callable, Iterable

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.http import require_GET

from ..models import DutyWeek, DutyWeekQuerySet, PersonFeed, Unit

# The roles ("unit", "qa", "platform") a feed's owner has in a week.
type RolesFor = Callable[[DutyWeek], list[str]]

PRODID = "-//Wallbreaker//Deployment duty//EN"
# Tokens are URL-safe base64 (see new_feed_token): anything else names no feed, and a NUL
# byte must not reach the database, which cannot compare it.
TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _require_token_shape(token: str) -> None:
    if not TOKEN.fullmatch(token):
        raise Http404("No calendar feed has that address.")


def escape_text(value: str) -> str:
    """Escape a TEXT value (RFC 5545, 3.3.11)."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line into chunks of at most 75 octets (RFC 5545, 3.1).

    Continuation lines start with one space, and a UTF-8 character is never split.
    """
    out: list[str] = []
    current, size, limit = "", 0, 75
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            out.append(current)
            current, size, limit = " ", 1, 75
        current += char
        size += width
    out.append(current)
    return "\r\n".join(out)


def _date(day: datetime.date) -> str:
    return day.strftime("%Y%m%d")


def _events(weeks: Iterable[DutyWeek], roles_for: RolesFor) -> list[str]:
    stamp = timezone.now().astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    site = settings.SITE_URL.rstrip("/")
    lines = []
    for week in weeks:
        for role in roles_for(week):
            summary = {
                "unit": f"Deployment duty: {week.unit}",
                "qa": f"QA shadow for {week.unit} deployments",
                "platform": f"Platform member for {week.unit} deployments",
            }[role]
            people = [
                f"Unit on duty: {week.unit}",
                f"QA shadow: {_name(week.qa_person)}",
                f"Platform member: {_name(week.platform_person)}",
            ]
            lines += [
                "BEGIN:VEVENT",
                f"UID:duty-{week.pk}-{role}@wallbreaker",
                f"DTSTAMP:{stamp}",
                f"DTSTART;VALUE=DATE:{_date(week.week_start)}",
                f"DTEND;VALUE=DATE:{_date(week.week_start + datetime.timedelta(days=7))}",
                f"SUMMARY:{escape_text(summary)}",
                f"DESCRIPTION:{escape_text(chr(10).join(people))}",
                f"URL:{site}/rotation/",
                "TRANSP:TRANSPARENT",
                "END:VEVENT",
            ]
    return lines


def _name(user: User | None) -> str:
    if user is None:
        return "none"
    return user.get_full_name() or user.get_username()


def render_calendar(name: str, weeks: Iterable[DutyWeek], roles_for: RolesFor) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
        *_events(weeks, roles_for),
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + "\r\n" for line in lines)


def _response(body: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, max-age=900"
    return response


def _weeks() -> DutyWeekQuerySet:
    # A year back is plenty of history for a calendar; the future is all there is.
    since = timezone.localdate() - datetime.timedelta(weeks=52)
    return DutyWeek.objects.select_related("unit", "qa_person", "platform_person").filter(
        week_start__gte=since
    )


@login_not_required
@require_GET
def unit_feed(request: HttpRequest, token: str) -> HttpResponse:
    _require_token_shape(token)
    unit = get_object_or_404(Unit, feed_token=token)
    weeks = _weeks().filter(unit=unit).order_by("week_start")
    body = render_calendar(f"{unit} deployment duty", weeks, lambda week: ["unit"])
    return _response(body, "duty.ics")


@login_not_required
@require_GET
def person_feed(request: HttpRequest, token: str) -> HttpResponse:
    _require_token_shape(token)
    # A deactivated account's feed stops with it (the URL may have been shared or leaked).
    feed = get_object_or_404(
        PersonFeed.objects.select_related("user"), token=token, user__is_active=True
    )
    user = feed.user
    unit_ids = set(user.units.values_list("pk", flat=True))
    weeks = _weeks().involving(user).order_by("week_start")

    def roles_for(week: DutyWeek) -> list[str]:
        roles = []
        if week.unit_id in unit_ids:
            roles.append("unit")
        if week.qa_person_id == user.pk:
            roles.append("qa")
        if week.platform_person_id == user.pk:
            roles.append("platform")
        return roles

    name = f"Deployment duty of {user.get_full_name() or user.get_username()}"
    return _response(render_calendar(name, weeks, roles_for), "duty.ics")
