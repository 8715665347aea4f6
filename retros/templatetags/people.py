"""The `person` filter: how a user is named on a page, including when there is no user.

Loaded in every template (a builtin in settings); the rule itself is retros.people.display_name.
"""

from django import template
from django.contrib.auth.models import User

from retros.people import display_name

register = template.Library()


@register.filter
def person(user: User | str | None, missing: str = "—") -> str:
    """Full name, else username; `missing` when the user is None (an empty or deleted role).

    A filter rather than `user.get_full_name|default:user.get_username`: Django resolves a
    filter's argument strictly, so that form raises (a 500) when the user is None.
    """
    if not isinstance(user, User):  # None, or "" for a variable the template does not know
        return missing
    return display_name(user)
