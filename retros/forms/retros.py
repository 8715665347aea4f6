"""Forms for the retro: its header fields and its findings."""

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Q
from django.utils import timezone

from ..models import DutyWeek, Finding, Retrospective, Unit
from ..weeks import monday_of

RATING_CHOICES = [("", "—")] + [(n, str(n)) for n in range(1, 6)]


class RetroForm(forms.ModelForm):
    pain_rating = forms.TypedChoiceField(
        choices=RATING_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        label="How painful were this week's deployments? (1 not at all – 5 very)",
    )
    confidence_rating = forms.TypedChoiceField(
        choices=RATING_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        label="Confidence in the deployment process (1 none – 5 full)",
    )

    # The columns this form writes; status and submitted_at are never among them.
    SAVED_COLUMNS = ["facilitator", "pain_rating", "confidence_rating", "summary"]

    class Meta:
        model = Retrospective
        fields = ["facilitator", "attendees", "pain_rating", "confidence_rating", "summary"]
        widgets = {
            "attendees": forms.CheckboxSelectMultiple,
            "summary": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        week = self.instance.duty_week
        # The people who could be there: the unit, QA and platform people, whoever is listed.
        people = (
            get_user_model()
            .objects.filter(
                Q(units=week.unit)
                | Q(units__kind__in=[Unit.Kind.QA, Unit.Kind.PLATFORM], units__is_active=True)
                | Q(
                    pk__in=[
                        week.qa_person_id,
                        week.platform_person_id,
                        self.instance.facilitator_id,
                    ]
                )
                | Q(attended_retros=self.instance)
            )
            .filter(is_active=True)
            .distinct()
            .order_by("username")
        )
        for name in ("facilitator", "attendees"):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)  # a relation's field
            field.queryset = people
            # Django calls self.label_from_instance(obj): on the instance, it takes the object.
            field.label_from_instance = _person_label  # type: ignore[method-assign,assignment]

    def changes(self) -> dict[str, list[Any]]:
        """What this valid form changes, as {field: [before, after]}, for the revision record."""
        changes = {}
        for name in self.changed_data:
            before = self.initial.get(name)
            after = self.cleaned_data[name]
            if name == "attendees":
                before = sorted(str(user) for user in self.instance.attendees.all())
                after = sorted(str(user) for user in after)
            elif name == "facilitator":
                # The instance already holds the new facilitator; the initial data the old.
                previous = get_user_model().objects.filter(pk=before).first() if before else None
                before = str(previous) if previous else None
                after = str(after) if after else None
            changes[name] = [before, after]
        return changes


def _person_label(user: User) -> str:
    name = user.get_full_name()
    return f"{name} ({user.get_username()})" if name else user.get_username()


class RetroHistoryFilter(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search findings")
    unit = forms.ModelChoiceField(
        queryset=Unit.objects.filter(kind=Unit.Kind.PRODUCT), required=False, label="Unit"
    )
    status = forms.ChoiceField(
        choices=[("", "Any")] + list(Retrospective.Status.choices), required=False
    )


class FindingForm(forms.ModelForm):
    class Meta:
        model = Finding
        fields = ["kind", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 2, "maxlength": 2000})}
        labels = {"text": "Finding"}

    def clean_text(self) -> str:
        text = self.cleaned_data["text"].strip()
        if not text:
            raise forms.ValidationError("Write what you found.")
        return text


class RetroStartForm(forms.Form):
    """Which duty week's retro to open; none means this week's."""

    week = forms.ModelChoiceField(
        queryset=DutyWeek.objects.select_related("unit"),
        required=False,
        error_messages={"invalid_choice": "There is no such duty week: choose one from the list."},
    )

    def clean_week(self) -> DutyWeek | None:
        week = self.cleaned_data["week"]
        this_monday = monday_of(timezone.localdate())
        if week is not None and week.week_start > this_monday:
            raise forms.ValidationError(
                f"The week {week.iso_label} has not started: its retro opens on "
                f"{week.week_start:%A %-d %B %Y}."
            )
        return week
