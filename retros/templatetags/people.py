"""`{{ user|person }}`: a person's display name (retros.people), loaded in every template."""

from django import template

from retros.people import display_name

register = template.Library()


@register.filter
def person(user) -> str:
    """The person's full name, or their username when they have none; "" for nobody."""
    return display_name(user)
