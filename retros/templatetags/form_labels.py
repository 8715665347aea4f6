"""`{{ field|label }}`: a form field's <label> without Django's trailing colon, so every form
reads in one voice (loaded in every template)."""

from django import template

register = template.Library()


@register.filter
def label(bound_field) -> str:
    return bound_field.label_tag(label_suffix="")
