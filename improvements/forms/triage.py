"""Forms of retro triage: promote a finding to a card, link it to one, or say why nothing is
done; and the carry-over review's progress note."""

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import QuerySet

from retros.models import (
    Unit,
)
from retros.people import name_people_in

from ..models import Category, Column, Improvement


def _people() -> QuerySet[User]:
    return get_user_model().objects.filter(is_active=True, units__isnull=False).distinct()


class PromoteForm(forms.Form):
    title = forms.CharField(max_length=200, label="Improvement title")
    category = forms.ModelChoiceField(queryset=Category.objects.all(), empty_label=None)
    unit = forms.ModelChoiceField(
        queryset=Unit.objects.filter(is_active=True), required=False, label="Owning unit"
    )
    assignee = forms.ModelChoiceField(
        queryset=_people(), required=False, label="Owner", empty_label="Nobody yet"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        name_people_in(self.fields["assignee"], nobody="Nobody yet")

    def clean_title(self) -> str:
        title = self.cleaned_data["title"].strip()
        if not title:
            raise forms.ValidationError("Give the improvement a title.")
        return title


class LinkForm(forms.Form):
    improvement = forms.ModelChoiceField(
        queryset=Improvement.objects.open().select_related("column"),
        error_messages={"invalid_choice": "That improvement is archived or gone; search again."},
    )
    reopen = forms.ChoiceField(
        choices=[("yes", "Reopen it"), ("no", "Keep it done")], required=False
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        card = data.get("improvement")
        if card is not None and card.column.state == Column.State.DONE and not data.get("reopen"):
            raise forms.ValidationError(
                f"“{card.title}” is done. Reopen it (the fix may not have helped), "
                "or link and keep it done?"
            )
        return data


class NoActionForm(forms.Form):
    reason = forms.CharField(max_length=300, label="Reason for no action")

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Say why nothing will be done.")
        return reason


class NoteForm(forms.Form):
    note = forms.CharField(max_length=300, label="Progress note")

    def clean_note(self) -> str:
        note = " ".join(self.cleaned_data["note"].split())
        if not note:
            raise forms.ValidationError("Write a short note, or leave it blank.")
        return note
