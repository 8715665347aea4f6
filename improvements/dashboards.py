"""Dashboard views: is the deployment process getting better?"""

import datetime

from django.db.models import Count, Q
from django.db.models.functions import TruncWeek
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from .models import Category, Column, Improvement


def dashboard(request: HttpRequest) -> HttpResponse:
    open_cards = Improvement.objects.open()
    per_column = Column.objects.annotate(
        count=Count("improvements", filter=Q(improvements__archived_at__isnull=True))
    )
    per_category = Category.objects.annotate(
        count=Count("improvements", filter=Q(improvements__archived_at__isnull=True))
    )
    since = timezone.now() - datetime.timedelta(weeks=12)
    done_per_week = list(
        open_cards.filter(done_at__gte=since, column__state=Column.State.DONE)
        .annotate(week=TruncWeek("done_at"))
        .values("week")
        .annotate(count=Count("id"))
        .order_by("week")
    )
    peak = max([row["count"] for row in done_per_week], default=0)
    return render(
        request,
        "improvements/dashboard.html",
        {
            "per_column": per_column,
            "per_category": per_category,
            "done_per_week": done_per_week,
            "peak": peak,
        },
    )
