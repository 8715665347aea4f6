"""The request our views receive, for their annotations."""

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """Django's request as our middleware leaves it: django-htmx adds `htmx`, and the user is
    signed in (LoginRequiredMiddleware turns everyone else away). Views marked
    `login_not_required` take a plain HttpRequest instead."""

    htmx: HtmxDetails
    user: User
