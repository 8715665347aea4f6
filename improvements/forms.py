"""Forms of the improvement board: filters, moves, quick-add, card edits and column settings."""

from urllib.parse import urlencode

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from retros.models import ProcessStep, Unit
from retros.people import name_people_in

from .models import Category, Column, Improvement
from .permissions import can_act_for_owner, can_change_owner


class BoardFilterForm(forms.Form):
    """The board's filters, read from the URL so a filtered board can be shared.

    Filters by slug, id and username so parsing them costs no query; values that do not
    parse are ignored rather than failing the whole board.
    """

    category = forms.SlugField(required=False)
    unit = forms.IntegerField(required=False, min_value=1)
    assignee = forms.CharField(required=False, max_length=150)
    q = forms.CharField(required=False, max_length=200, strip=True)
    mine = forms.BooleanField(required=False)
    all = forms.BooleanField(required=False)

    FILTER_FIELDS = ("category", "unit", "assignee", "q", "mine")

    def __init__(self, data=None, **kwargs) -> None:
        super().__init__(data, **kwargs)
        self.is_valid()
        # Drop what did not parse instead of refusing the board.
        self.values = {name: self.cleaned_data.get(name) for name in self.fields}

    @property
    def is_filtering(self) -> bool:
        return any(self.values[name] for name in self.FILTER_FIELDS)

    @property
    def show_all(self) -> bool:
        return bool(self.values["all"])

    def apply(self, cards, user):
        values = self.values
        if values["category"]:
            cards = cards.filter(category__slug=values["category"])
        if values["unit"]:
            cards = cards.filter(unit_id=values["unit"])
        if values["assignee"]:
            cards = cards.filter(assignee__username=values["assignee"])
        if values["q"]:
            cards = cards.filter(
                Q(title__icontains=values["q"]) | Q(description__icontains=values["q"])
            )
        if values["mine"]:
            cards = cards.filter(assignee=user)
        return cards

    def querystring(self, **overrides) -> str:
        """The filters as a query string (with a leading "?"), or "" when there are none."""
        values = {**self.values, **overrides}
        pairs = [(name, "1" if value is True else value) for name, value in values.items() if value]
        return "?" + urlencode(pairs) if pairs else ""


class MoveForm(forms.Form):
    """Where a card goes: a column and the neighbour it lands next to, never an index.

    Drag and drop sends `after` or `before`; the move form sends `place`: "top", "bottom"
    or "after-<card id>".
    """

    column = forms.IntegerField(min_value=1)
    after = forms.IntegerField(required=False, min_value=1)
    before = forms.IntegerField(required=False, min_value=1)
    place = forms.CharField(required=False, max_length=30)

    def clean(self) -> dict:
        data = super().clean()
        place = data.get("place") or ""
        data["to_bottom"] = place == "bottom"
        if place.startswith("after-"):
            try:
                data["after"] = int(place.removeprefix("after-"))
            except ValueError:
                raise forms.ValidationError("Choose where in the column the card goes.") from None
        elif place and place not in ("top", "bottom"):
            raise forms.ValidationError("Choose where in the column the card goes.")
        if place in ("top", "bottom"):
            data["after"] = data["before"] = None
        if data.get("after") and data.get("before"):
            raise forms.ValidationError("Name one neighbour: the card before or the card after.")
        return data


class QuickAddForm(forms.Form):
    title = forms.CharField(max_length=200, strip=True)


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

    def __init__(self, *args, user=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["category"].queryset = Category.objects.all()
        self.fields["unit"].queryset = Unit.objects.filter(is_active=True)
        self.fields["assignee"].queryset = (
            get_user_model().objects.filter(is_active=True).order_by("username")
        )
        name_people_in(self.fields["assignee"])
        self.fields["target_step"].queryset = ProcessStep.objects.all()

    def clean_unit(self):
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

    def changes(self) -> dict[str, tuple]:
        """{field: (old, new)} for the fields the user changed, as people read them."""
        changed = {}
        for name in self.changed_data:
            old = self.initial.get(name)
            field = self.fields[name]
            if isinstance(field, forms.ModelChoiceField) and old is not None:
                old = field.queryset.filter(pk=old).first()
            changed[name] = (old if old is not None else "", self.cleaned_data[name] or "")
        return changed


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment", max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class DropForm(forms.Form):
    reason = forms.CharField(label="Why drop it?", max_length=300, strip=True)


class ColumnForm(forms.ModelForm):
    class Meta:
        model = Column
        fields = ["name", "position", "state", "wip_limit"]
        labels = {"position": "Order", "wip_limit": "WIP limit"}
        help_texts = {"wip_limit": "Empty for none. Done and dropped columns have none."}

    def validate_unique(self) -> None:
        # Positions are unique, but the settings page saves them all at once: two columns
        # swapping places is not a clash (the formset checks the new orders are distinct).
        exclude = self._get_validation_exclusions()
        exclude.add("position")
        try:
            self.instance.validate_unique(exclude=exclude)
        except forms.ValidationError as error:
            self._update_errors(error)


class BaseColumnFormSet(forms.BaseModelFormSet):
    def clean(self) -> None:
        super().clean()
        kept, orders = 0, []
        for form in self.forms:
            if not form.cleaned_data or not form.has_changed() and form.instance.pk is None:
                continue
            if self.can_delete and self._should_delete_form(form):
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
