"""Template filters for deployment runs: measured seconds shown as people say them."""

from django import template

register = template.Library()


@register.filter
def duration(seconds: float | str | None) -> str:
    """12 s, 4 min, 1 h 05 min: minutes rounded down, seconds only under a minute."""
    if seconds is None:
        return "—"
    try:
        seconds = int(seconds)
    except (TypeError, ValueError):
        return "—"
    if seconds < 60:
        return f"{max(seconds, 0)} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"
