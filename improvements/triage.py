"""Views for triaging a submitted retro's findings into improvements."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from retros.models import Finding, Retrospective

from .models import Category
from .operations import guess_category, promote_finding, title_from
from .views import can_edit_board


def retro_triage(request: HttpRequest, pk: int) -> HttpResponse:
    retro = get_object_or_404(Retrospective.objects.select_related("duty_week__unit"), pk=pk)
    findings = list(
        retro.findings.filter(kind__in=[Finding.Kind.PAIN, Finding.Kind.IDEA]).select_related(
            "link__improvement"
        )
    )
    for finding in findings:
        finding.suggested_title = title_from(finding.text)
        finding.suggested_category = guess_category(finding.text)
    return render(
        request,
        "improvements/triage.html",
        {
            "retro": retro,
            "findings": findings,
            "categories": Category.objects.all(),
            "can_edit": retro.can_edit(request.user) and can_edit_board(request.user),
        },
    )


class PromoteForm(forms.Form):
    title = forms.CharField(max_length=200)
    category = forms.ModelChoiceField(queryset=Category.objects.all())


@require_POST
def finding_promote(request: HttpRequest, pk: int) -> HttpResponse:
    """Turn a retro finding into a new improvement card in the first column."""
    finding = get_object_or_404(Finding.objects.select_related("retro__duty_week"), pk=pk)
    if not (finding.retro.can_edit(request.user) and can_edit_board(request.user)):
        raise PermissionDenied("Only the retro's people may triage its findings.")
    form = PromoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the improvement a title and a category.")
        return redirect("retro_triage", finding.retro_id)
    with transaction.atomic():
        locked = Finding.objects.select_for_update().get(pk=finding.pk)
        if locked.outcome != Finding.Outcome.PENDING:
            messages.info(request, "That finding was already triaged.")
            return redirect("retro_triage", finding.retro_id)
        improvement = promote_finding(
            locked,
            request.user,
            title=form.cleaned_data["title"],
            category=form.cleaned_data["category"],
            unit=finding.retro.duty_week.unit,
        )
    messages.success(request, f"Created improvement “{improvement.title}”.")
    return redirect("retro_triage", finding.retro_id)
