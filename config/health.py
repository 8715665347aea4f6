"""Availability: /healthz for load balancers, and a clean 503 while the database is away."""

import sys

from django.contrib.auth.decorators import login_not_required
from django.db import InterfaceError, OperationalError, connection, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.defaults import server_error as default_server_error


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 - any database failure means "take me out of rotation"
        connection.close_if_unusable_or_obsolete()
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a lost database answers 503 + Retry-After (nothing was saved), not a 500."""
    exception = sys.exc_info()[1]
    if not isinstance(exception, (OperationalError, InterfaceError)):
        return default_server_error(request)
    # Drop broken connections now so the next request opens a fresh one.
    for each in connections.all(initialized_only=True):
        each.close_if_unusable_or_obsolete()
    response = HttpResponse(
        "The database is unavailable for a moment; nothing was saved. Please try again.",
        status=503,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = "5"
    return response
