"""Login throttling wired for this project."""

import ipaddress

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' backend, skipped where there is no HTTP request to throttle.

    Logins from code (the test client's login(), management commands) pass no request; axes
    would refuse them outright. Every login over HTTP still goes through the lockout check.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
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
