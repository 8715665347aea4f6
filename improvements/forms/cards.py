"""Forms of one card: edits, comments and dropping it."""

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import QuerySet

from retros.models import ProcessStep, Unit
from retros.people import name_people_in

from ..models import Category, Improvement
from ..permissions import can_act_for_owner, can_change_owner


class ImprovementForm(forms.ModelForm):
    """Edit a card in place; moves go through the move form, history through events."""

    class Meta:
        model = Improvement
        fields = [
            "title",
            "description",
            "category",
            "unit",
            "assignee",
            "target_step",
            "expected_effect",
            "external_link",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 6})}
        help_texts = {"description": "Markdown."}

    def __init__(self, *args: Any, user: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        choices: dict[str, QuerySet[Any]] = {
            "category": Category.objects.all(),
            "unit": Unit.objects.filter(is_active=True),
            "assignee": get_user_model().objects.filter(is_active=True).order_by("username"),
            "target_step": ProcessStep.objects.all(),
        }
        for name, queryset in choices.items():
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)  # a relation's field
            field.queryset = queryset
        name_people_in(self.fields["assignee"])

    def clean_unit(self) -> Unit | None:
        unit = self.cleaned_data["unit"]
        card = self.instance
        if (
            card.pk
            and unit != card.unit
            and not (self.user is not None and can_change_owner(self.user, card, unit))
        ):
            # Its owner confirms whether a card helped, so ownership is not handed around.
            if self.user is None or not can_act_for_owner(self.user, card.unit):
                raise forms.ValidationError(
                    f"Only staff and members of {card.unit} hand its card to another unit."
                )
            raise forms.ValidationError(f"Only staff and members of {unit} give it a card.")
        return unit

    def changes(self) -> dict[str, tuple[Any, Any]]:
        """{field: (old, new)} for the fields the user changed, as people read them."""
        changed = {}
        for name in self.changed_data:
            old = self.initial.get(name)
            field = self.fields[name]
            if isinstance(field, forms.ModelChoiceField) and old is not None:
                assert field.queryset is not None  # set in __init__
                old = field.queryset.filter(pk=old).first()
            changed[name] = (old if old is not None else "", self.cleaned_data[name] or "")
        return changed


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment", max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class DropForm(forms.Form):
    reason = forms.CharField(label="Why drop it?", max_length=300, strip=True)
