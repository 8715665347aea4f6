"""Availability: /healthz for load balancers, and a clean 503 while the database is away."""

import logging
import sys
from collections.abc import Callable

from django.contrib.auth.decorators import login_not_required
from django.db import InterfaceError, OperationalError, connection, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_safe
from django.views.defaults import server_error as default_server_error

HEALTH_PATH = "/healthz"


def _health_response(method: str | None) -> HttpResponse:
    """200 while this instance reaches its database, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 - any database failure means "take me out of rotation"
        connection.close_if_unusable_or_obsolete()
        response = JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    else:
        response = JsonResponse({"status": "ok", "database": "ok"})
    if method == "HEAD":
        response.content = b""
    add_never_cache_headers(response)
    return response


class HealthCheckMiddleware:
    """Answers GET and HEAD /healthz before any other middleware sees the request.

    Load balancers probe each instance by its IP address over plain HTTP: the host check
    would answer 400 and the HTTPS redirect 301 (which Kubernetes counts as healthy, even
    with the database down). Put first in MIDDLEWARE; the answer is two words of status and
    reads no header, so skipping the host check for this one path is safe. Other methods and
    paths go through the whole stack.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == HEALTH_PATH and request.method in ("GET", "HEAD"):
            return _health_response(request.method)
        return self.get_response(request)


@login_not_required
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """The same answer by the URL, for setups that leave out HealthCheckMiddleware."""
    return _health_response(request.method)


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


class OneLineForDatabaseOutage(logging.Filter):
    """Logs a request that failed because the database is away as one line, not a traceback.

    During an outage every request fails the same way; a traceback each would bury the log.
    Set on the django.request logger; other errors keep their traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, (OperationalError, InterfaceError)):
            first_line = (str(error).strip().splitlines() or [""])[0]
            record.msg = f"{record.getMessage()} (database unavailable: {first_line})"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        return True
