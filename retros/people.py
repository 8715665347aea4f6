"""How a person is named on every page: their full name, or their username when they have none."""

from django import forms
from django.contrib.auth.models import User


def name_from_parts(first_name: str | None, last_name: str | None, username: str | None) -> str:
    """The display name from a row's name columns (for pages that read plain rows)."""
    full = f"{first_name or ''} {last_name or ''}".strip()
    return full or username or ""


def display_name(user: User | None) -> str:
    """A user's name as people know it; "" for no user."""
    if user is None:
        return ""
    return name_from_parts(user.first_name, user.last_name, user.get_username())


def name_people_in(field: forms.Field, nobody: str = "Nobody") -> None:
    """Make a form's person select show names; an optional one offers `nobody` as empty."""
    if not isinstance(field, forms.ModelChoiceField):
        raise TypeError(f"{field!r} is not a choice of people")
    # Django calls self.label_from_instance(obj); set on the instance, it takes just the object.
    field.label_from_instance = display_name  # type: ignore[method-assign,assignment]
    if not field.required:
        field.empty_label = nobody
