"""The board's column settings: one form per column, checked together as a formset."""

from django import forms

from ..models import Column


class ColumnForm(forms.ModelForm):
    class Meta:
        model = Column
        fields = ["name", "position", "state", "wip_limit"]
        labels = {"position": "Order", "wip_limit": "WIP limit"}
        help_texts = {"wip_limit": "Empty for none. Done and dropped columns have none."}

    def validate_unique(self) -> None:
        # Positions are unique, but the settings page saves them all at once: two columns
        # swapping places is not a clash (the formset checks the new orders are distinct).
        # Django's own ModelForm methods, which django-stubs leaves out.
        exclude = self._get_validation_exclusions()  # type: ignore[attr-defined]
        exclude.add("position")
        try:
            self.instance.validate_unique(exclude=exclude)
        except forms.ValidationError as error:
            self._update_errors(error)  # type: ignore[attr-defined]


class BaseColumnFormSet(forms.BaseModelFormSet):
    def clean(self) -> None:
        super().clean()
        kept, orders = 0, []
        for form in self.forms:
            if not form.cleaned_data or not form.has_changed() and form.instance.pk is None:
                continue
            # _should_delete_form: Django's own formset method, which django-stubs leaves out.
            if self.can_delete and self._should_delete_form(form):  # type: ignore[attr-defined]
                if form.instance.pk and form.instance.improvements.exists():
                    raise forms.ValidationError(
                        f"“{form.instance}” still holds cards; move them out before deleting it."
                    )
                continue
            kept += 1
            orders.append(form.cleaned_data.get("position"))
        if kept == 0:
            raise forms.ValidationError("The board needs at least one column.")
        if len(set(orders)) != len(orders):
            raise forms.ValidationError("Give every column a different order number.")


ColumnFormSet = forms.modelformset_factory(
    Column, form=ColumnForm, formset=BaseColumnFormSet, extra=1, can_delete=True
)
