"""Login and password-reset throttling wired for this project."""

import datetime
import hashlib
import ipaddress
from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.models import User
from django.contrib.auth.views import PasswordResetView
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from config.models import PasswordResetRequest

# Password-reset requests allowed per hour from one client address, and for one address.
RESET_LIMIT_PER_CLIENT = 5
RESET_LIMIT_PER_EMAIL = 3
RESET_WINDOW_SECONDS = 3600


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' backend, skipped where there is no HTTP request to throttle.

    Logins from code (the test client's login(), management commands) pass no request; axes
    would refuse them outright. Every login over HTTP still goes through the lockout check.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_ip(request: HttpRequest) -> str | None:
    """The address login failures are counted against (AXES_CLIENT_IP_CALLABLE).

    Behind TRUSTED_PROXY_COUNT proxies (1 for one load balancer) it is the address the
    outermost of them saw, read that many entries from the right of X-Forwarded-For: entries
    further left are whatever the client sent, so they are never trusted. Without proxies,
    or when the header is shorter than it should be, it is REMOTE_ADDR.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if proxies and len(hops) >= proxies:
        try:
            return str(ipaddress.ip_address(hops[-proxies]))
        except ValueError:
            pass
    return request.META.get("REMOTE_ADDR")


def _hashed(kind: str, value: str | None) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def password_reset_allowed(request: HttpRequest, email: str) -> bool:
    """Count this reset request; False once the client or the address is over its limit.

    django-axes throttles logins only, and each reset sends an email, so without a limit the
    form mails anyone on the site on a loop. Counted whether or not the address has an
    account, so the limit tells nothing about who has one.

    The count is of rows in the database, so it holds across processes and instances. Each
    request first writes its rows (committed at once: requests run in autocommit), then
    counts: of two concurrent requests the later sees the earlier, so none slips through
    the limit; at worst both see each other and both are refused. A refused request takes
    its rows back, so refusals neither extend the wait nor fill the table.
    """
    now = timezone.now()
    since = now - datetime.timedelta(seconds=RESET_WINDOW_SECONDS)
    limits = {
        _hashed("client", client_ip(request)): RESET_LIMIT_PER_CLIENT,
        _hashed("email", email.strip().lower()): RESET_LIMIT_PER_EMAIL,
    }
    PasswordResetRequest.objects.filter(at__lte=since).delete()
    rows = PasswordResetRequest.objects.bulk_create(
        PasswordResetRequest(key=key, at=now) for key in limits
    )
    counts = dict(
        PasswordResetRequest.objects.filter(key__in=limits, at__gt=since)
        .values_list("key")
        .annotate(Count("pk"))
    )
    if all(counts[key] <= limit for key, limit in limits.items()):
        return True
    PasswordResetRequest.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return False


class ThrottledPasswordResetView(PasswordResetView):
    """Django's password reset, refusing with 429 past the hourly limits above."""

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        if not password_reset_allowed(self.request, form.cleaned_data["email"]):
            form.add_error(
                "email",
                "Too many reset requests from here or for this address: try again in an hour.",
            )
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().form_valid(form)
