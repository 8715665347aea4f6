"""Forms for the retro: its header fields and its findings."""

from django import forms
from django.contrib.auth import get_user_model

from .models import Finding, Retrospective

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

    class Meta:
        model = Retrospective
        fields = ["facilitator", "attendees", "pain_rating", "confidence_rating", "summary"]
        widgets = {
            "attendees": forms.CheckboxSelectMultiple,
            "summary": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        people = get_user_model().objects.filter(is_active=True).order_by("username")
        self.fields["facilitator"].queryset = people
        self.fields["attendees"].queryset = people


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
