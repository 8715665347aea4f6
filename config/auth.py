"""Login throttling wired for this project."""

from axes.backends import AxesStandaloneBackend


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' backend, skipped where there is no HTTP request to throttle.

    Logins from code (the test client's login(), management commands) pass no request; axes
    would refuse them outright. Every login over HTTP still goes through the lockout check.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
