"""Forms for the deployment log (filters and hand entry) and the process map."""

import datetime
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from .. import weeks
from ..models import Deployment, DeploymentQuerySet, ProcessStep, Unit
from ..people import name_people_in


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class DeploymentForm(forms.ModelForm):
    """A deployment logged by hand; impossible values are refused with a reason."""

    started_at = forms.DateTimeField(
        label="Started", widget=DateTimeLocalInput(), input_formats=["%Y-%m-%dT%H:%M"]
    )
    finished_at = forms.DateTimeField(
        label="Finished", widget=DateTimeLocalInput(), input_formats=["%Y-%m-%dT%H:%M"]
    )

    class Meta:
        model = Deployment
        fields = [
            "environment",
            "started_at",
            "finished_at",
            "hands_on_minutes",
            "deployer",
            "shadow",
            "result",
            "blocked_minutes",
            "blocked_cause",
            "restarts",
            "manual_steps_done",
            "trigger",
            "version",
            "notes",
        ]
        labels = {
            "hands_on_minutes": "Hands-on minutes",
            "blocked_minutes": "Blocked minutes",
            "blocked_cause": "What blocked it",
            "manual_steps_done": "Manual steps done",
            "version": "Commit or version",
        }
        help_texts = {
            "hands_on_minutes": "Minutes someone actively worked on it.",
            "blocked_minutes": "Minutes spent waiting on something or someone.",
        }
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = get_user_model().objects.filter(is_active=True).order_by("username")
        for name in ("deployer", "shadow"):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = people
            name_people_in(field)
        for name in ["hands_on_minutes", "blocked_minutes", "restarts", "manual_steps_done"]:
            self.fields[name].widget.attrs["min"] = 0

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        started, finished = cleaned.get("started_at"), cleaned.get("finished_at")
        if started and finished:
            if finished < started:
                self.add_error("finished_at", "A deployment cannot finish before it starts.")
            else:
                elapsed = (finished - started).total_seconds() / 60
                blocked = cleaned.get("blocked_minutes") or 0
                if blocked > round(elapsed):
                    self.add_error(
                        "blocked_minutes",
                        f"Blocked for {blocked} minutes is longer than the whole deployment "
                        f"({round(elapsed)} minutes).",
                    )
        if cleaned.get("blocked_minutes") and not cleaned.get("blocked_cause", "").strip():
            self.add_error("blocked_cause", "Say what blocked it, so the retro can act on it.")
        return cleaned


class DeploymentFilterForm(forms.Form):
    """The deployment log's filters; they live in the URL so a filtered view can be shared."""

    week = forms.CharField(
        required=False,
        label="ISO week",
        widget=forms.TextInput(attrs={"type": "week", "placeholder": "2026-W07"}),
    )
    unit = forms.ModelChoiceField(
        queryset=Unit.objects.filter(kind=Unit.Kind.PRODUCT),
        required=False,
        empty_label="Any unit",
        label="Unit on duty",
    )
    environment = forms.ChoiceField(
        choices=[("", "Any environment")] + Deployment.Environment.choices, required=False
    )
    result = forms.ChoiceField(
        choices=[("", "Any result")] + Deployment.Result.choices, required=False
    )
    trigger = forms.ChoiceField(
        choices=[("", "Any trigger")] + Deployment.Trigger.choices, required=False
    )

    def clean_week(self) -> datetime.date | None:
        """Turn "2026-W07" into that week's Monday."""
        value = self.cleaned_data["week"].strip()
        if not value:
            return None
        try:
            return weeks.parse_iso_week(value)
        except weeks.WeekError as error:
            raise forms.ValidationError(str(error)) from None

    def filter(self, deployments: DeploymentQuerySet) -> DeploymentQuerySet:
        """Apply the filters; with an invalid one nothing is shown (beside its error), since
        listing every deployment would look like the filter's answer."""
        if not self.is_valid():
            return deployments.none()
        data = self.cleaned_data
        if data["week"]:
            tz = timezone.get_current_timezone()
            start = datetime.datetime.combine(data["week"], datetime.time.min, tzinfo=tz)
            deployments = deployments.filter(
                started_at__gte=start, started_at__lt=start + datetime.timedelta(days=7)
            )
        if data["unit"]:
            deployments = deployments.filter(duty_week__unit=data["unit"])
        for name in ["environment", "result", "trigger"]:
            if data[name]:
                deployments = deployments.filter(**{name: data[name]})
        return deployments


class ProcessStepForm(forms.ModelForm):
    """A step of the process; a change of mode is recorded with the note given."""

    note = forms.CharField(
        required=False,
        max_length=300,
        label="Why the mode changed",
        help_text="Recorded in the step's history when you change its mode.",
    )

    class Meta:
        model = ProcessStep
        fields = ["title", "mode", "minutes", "unit", "how_to"]
        labels = {"minutes": "Minutes it takes", "unit": "Owning unit", "how_to": "How to"}
        widgets = {"how_to": forms.Textarea(attrs={"rows": 8})}
