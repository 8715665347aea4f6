"""Forms of the improvement board: filters, moves and quick-add."""

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.models import User
from django.db.models import Q

from ..models import ImprovementQuerySet


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

    def __init__(self, data: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
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

    def apply(self, cards: ImprovementQuerySet, user: User | None) -> ImprovementQuerySet:
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

    def querystring(self, **overrides: object) -> str:
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

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
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
