"""The board's column settings: names, order, states and WIP limits."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Max
from django.forms import BaseModelFormSet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from retros.http import HtmxHttpRequest

from ..forms.columns import ColumnForm, ColumnFormSet
from ..models import Column, Improvement
from ..permissions import can_edit_columns


def column_settings(request: HtmxHttpRequest) -> HttpResponse:
    """Name, order, state and WIP limit of every column; staff and the platform team edit."""
    can_edit = can_edit_columns(request.user)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Only staff and the platform team change the columns.")
        formset = ColumnFormSet(request.POST, queryset=Column.objects.all())
        if formset.is_valid():
            try:
                with transaction.atomic():
                    _save_columns(formset)
            except ColumnNotEmpty as error:
                # Django's own list of the formset's errors; django-stubs leaves it out.
                formset._non_form_errors.append(str(error))  # type: ignore[attr-defined]
            else:
                messages.success(request, "Saved the board's columns.")
                return redirect("board:board")
    else:
        formset = ColumnFormSet(queryset=Column.objects.all())
    return render(
        request,
        "improvements/column_settings.html",
        {"formset": formset, "can_edit": can_edit},
    )


class ColumnNotEmpty(Exception):
    """A column to delete took a card after the form was checked; nothing was saved."""


def _save_columns(formset: "BaseModelFormSet[Column, ColumnForm]") -> None:
    # Moves and new cards lock their columns first, so once every column is locked no card
    # can arrive: only now is "the column is empty" (checked by the form before) still true.
    # In id order, as moves take them, so the two never wait on each other (no deadlock).
    list(Column.objects.select_for_update().order_by("pk"))
    deleted = [
        form.instance
        for form in formset.forms
        # _should_delete_form: Django's own formset method, which django-stubs leaves out.
        if form.instance.pk and formset._should_delete_form(form)  # type: ignore[attr-defined]
    ]
    for column in deleted:
        if Improvement.objects.filter(column=column).exists():
            raise ColumnNotEmpty(
                f"“{column}” took a card while you were editing; move it out before deleting "
                "the column. Nothing was saved."
            )
    # Positions are unique: first lift every column above the highest position (no clash
    # row by row), then each form writes its new order.
    offset = (Column.objects.aggregate(highest=Max("position"))["highest"] or 0) + 1000
    Column.objects.update(position=F("position") + offset, updated_at=timezone.now())
    for form in formset.forms:
        if form.instance.pk is None and not form.has_changed():
            continue
        if formset._should_delete_form(form):  # type: ignore[attr-defined]
            if form.instance.pk:
                form.instance.delete()
            continue
        form.save()
