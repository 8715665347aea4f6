"""Forms of the reports: the dashboard's filters and a card's effect verdict."""

import datetime
from typing import Any

from django import forms

from retros.models import Deployment, Unit
from retros.weeks import FIRST_YEAR, LAST_YEAR, within_app_years

from ..models import Category, Improvement
from ..reporting import effect_statistics, metrics


class DashboardFilterForm(forms.Form):
    start = forms.DateField(
        required=False, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    end = forms.DateField(
        required=False, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    unit = forms.ModelChoiceField(
        queryset=Unit.objects.all(), required=False, empty_label="All units"
    )
    category = forms.ModelChoiceField(
        queryset=Category.objects.all(),
        required=False,
        to_field_name="slug",
        empty_label="All categories",
    )
    window = forms.IntegerField(
        required=False,
        min_value=effect_statistics.MINIMUM_SIDE,
        max_value=100,
        label="Deployments before and after",
        help_text=f"N for “Did it help?” (default {metrics.DEFAULT_WINDOW}).",
    )
    environment = forms.ChoiceField(
        required=False,
        choices=Deployment.Environment.choices,
        label="Deployments compared",
        help_text="Environment for “Did it help?” (default production).",
    )
    period = forms.ChoiceField(
        required=False,
        choices=[("week", "Week"), ("day", "Day")],
        label="Cumulative flow by",
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        for name in ("start", "end"):
            if data.get(name) and not within_app_years(data[name]):
                self.add_error(name, f"Pick a date between {FIRST_YEAR} and {LAST_YEAR}.")
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", "The end date comes after the start date.")
        if start and end and (end - start).days > 366 * 20:
            self.add_error("start", "Pick a range of at most twenty years.")
        return data

    def filters(self) -> metrics.Filters:
        """The filters asked for; anything invalid falls back to its default."""
        data = self.cleaned_data if self.is_valid() else {}
        default = metrics.Filters.default()
        end = data.get("end") or default.end
        start = data.get("start") or end - datetime.timedelta(days=metrics.DEFAULT_DAYS - 1)
        start, end = min(start, end), max(start, end)
        return metrics.Filters(
            start=start,
            end=end,
            unit=data.get("unit"),
            category=data.get("category"),
            window=data.get("window") or metrics.DEFAULT_WINDOW,
            period=data.get("period") or "week",
            environment=data.get("environment") or Deployment.Environment.PRODUCTION,
        )


class VerdictForm(forms.Form):
    verdict = forms.ChoiceField(choices=Improvement.Verdict.choices)
    # The verdict the dashboard or the card suggested, kept in the VERDICT event beside it.
    suggested = forms.ChoiceField(choices=Improvement.Verdict.choices, required=False)
    next = forms.CharField(required=False, max_length=2000)
