"""Puts "on duty this week" on every page."""

from django.http import HttpRequest

from .models import DutyWeek


def on_duty(request: HttpRequest) -> dict:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {
        "duty_week_now": lambda: DutyWeek.objects.select_related(
            "unit", "qa_person", "platform_person"
        ).current()
    }
