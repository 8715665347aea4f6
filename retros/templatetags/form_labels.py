"""`{{ field|label }}`: a form field's <label> without Django's trailing colon, so every form
reads in one voice (loaded in every template)."""

from django import template
from django.forms import BoundField

register = template.Library()


@register.filter
def label(bound_field: BoundField) -> str:
    return bound_field.label_tag(label_suffix="")
