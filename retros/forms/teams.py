"""Forms for teams and duty: units, their members, and the rotation of duty weeks."""

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Q, QuerySet

from ..models import DutyWeek, Unit
from ..people import name_people_in


class UnitForm(forms.ModelForm):
    class Meta:
        model = Unit
        fields = ["name", "kind", "is_active"]
        labels = {"is_active": "Active (takes part in the rotation)"}

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the unit a name.")
        return name


class MemberAddForm(forms.Form):
    user = forms.ModelChoiceField(queryset=get_user_model().objects.none(), label="Add a member")

    def __init__(self, *args: Any, unit: Unit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        user = self.fields["user"]
        assert isinstance(user, forms.ModelChoiceField)
        user.queryset = (
            get_user_model().objects.filter(is_active=True).exclude(units=unit).order_by("username")
        )
        name_people_in(user)


class GenerateRotationForm(forms.Form):
    weeks = forms.IntegerField(
        min_value=1, max_value=52, initial=8, label="Plan the next weeks (how many)"
    )


class DutyWeekForm(forms.ModelForm):
    class Meta:
        model = DutyWeek
        fields = ["unit", "qa_person", "platform_person"]
        labels = {"unit": "Unit on duty"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        units = Unit.objects.filter(kind=Unit.Kind.PRODUCT)
        if self.instance.pk:
            # Keep the current unit choosable even when it has been deactivated since.
            units = units.filter(Q(is_active=True) | Q(pk=self.instance.unit_id))
        else:
            units = units.filter(is_active=True)
        unit, qa, platform = (self.fields[n] for n in ("unit", "qa_person", "platform_person"))
        assert isinstance(unit, forms.ModelChoiceField)
        assert isinstance(qa, forms.ModelChoiceField)
        assert isinstance(platform, forms.ModelChoiceField)
        unit.queryset = units
        qa.queryset = _people_or_current(Unit.Kind.QA, self.instance.qa_person_id)
        platform.queryset = _people_or_current(Unit.Kind.PLATFORM, self.instance.platform_person_id)
        name_people_in(qa)
        name_people_in(platform)

    def clean_unit(self) -> Unit:
        unit = self.cleaned_data["unit"]
        week = self.instance
        if week.pk and unit.pk != week.unit_id and hasattr(week, "retro"):
            raise forms.ValidationError("This week's retro has started, so its unit stays.")
        return unit


def _people_or_current(kind: str, current_id: int | None) -> QuerySet[User]:
    return (
        get_user_model()
        .objects.filter(
            Q(units__kind=kind, units__is_active=True, is_active=True) | Q(pk=current_id)
        )
        .distinct()
        .order_by("username")
    )


class SwapForm(forms.Form):
    first = forms.ModelChoiceField(queryset=DutyWeek.objects.none(), label="Swap the unit of")
    second = forms.ModelChoiceField(queryset=DutyWeek.objects.none(), label="with the unit of")

    def __init__(self, *args: Any, weeks: QuerySet[DutyWeek], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("first", "second"):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = weeks

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("first") and data.get("first") == data.get("second"):
            raise forms.ValidationError("Choose two different weeks.")
        return data
