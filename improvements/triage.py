"""Triage of a submitted retro's findings into improvements, and the retro's carry-over review.

Both live here, not in `retros`, because they read and write the board; the retro page loads
them as fragments.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST, require_safe

from retros.models import Finding, Retrospective, Unit

from . import permissions
from .models import Category, Column, FindingLink, Improvement
from .operations import (
    add_progress_note,
    dismiss_finding,
    guess_category,
    link_finding,
    promote_finding,
    reopen_finding,
    title_from,
)

SEARCH_RESULTS = 10


def can_triage(retro: Retrospective, user) -> bool:
    """Kept for callers elsewhere: the rule is improvements.permissions.can_triage."""
    return permissions.can_triage(user, retro)


def _people():
    return get_user_model().objects.filter(is_active=True, units__isnull=False).distinct()


class PromoteForm(forms.Form):
    title = forms.CharField(max_length=200, label="Improvement title")
    category = forms.ModelChoiceField(queryset=Category.objects.all(), empty_label=None)
    unit = forms.ModelChoiceField(
        queryset=Unit.objects.filter(is_active=True), required=False, label="Owning unit"
    )
    assignee = forms.ModelChoiceField(
        queryset=_people(), required=False, label="Owner", empty_label="Nobody yet"
    )

    def clean_title(self) -> str:
        title = self.cleaned_data["title"].strip()
        if not title:
            raise forms.ValidationError("Give the improvement a title.")
        return title


class LinkForm(forms.Form):
    improvement = forms.ModelChoiceField(
        queryset=Improvement.objects.open(),
        error_messages={"invalid_choice": "That improvement is archived or gone; search again."},
    )


class NoActionForm(forms.Form):
    reason = forms.CharField(max_length=300, label="Reason for no action")

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Say why nothing will be done.")
        return reason


def _triage_findings(retro: Retrospective) -> list[Finding]:
    return list(
        retro.findings.filter(kind__in=[Finding.Kind.PAIN, Finding.Kind.IDEA]).select_related(
            "link__improvement__column"
        )
    )


def _retro_triage_page(
    request: HttpRequest, pk: int, bound: dict | None = None, status: int = 200
) -> HttpResponse:
    """Every pain and idea of the retro, each with its three ways out.

    `bound` holds a rejected form by finding id, so the page shows it with the input kept.
    """
    retro = get_object_or_404(Retrospective.objects.select_related("duty_week__unit"), pk=pk)
    findings = _triage_findings(retro)
    categories = list(Category.objects.all())
    by_slug = {category.slug: category for category in categories}
    bound = bound or {}
    # Every finding's form offers the same choices: read them once, not once per form.
    shared = PromoteForm()
    choices = {name: list(shared.fields[name].choices) for name in ("category", "unit", "assignee")}
    for finding in findings:
        guessed = guess_category(finding.text, categories=by_slug)
        finding.promote_form = bound.get(("promote", finding.pk)) or PromoteForm(
            initial={
                "title": title_from(finding.text),
                "category": guessed.pk if guessed else None,
                "unit": retro.duty_week.unit_id,
            },
            auto_id=f"f{finding.pk}-%s",
        )
        for name, options in choices.items():
            finding.promote_form.fields[name].widget.choices = options
        finding.no_action_form = bound.get(("no_action", finding.pk)) or NoActionForm(
            auto_id=f"f{finding.pk}-%s"
        )
        finding.link_error = bound.get(("link", finding.pk))
    pending = sum(1 for finding in findings if finding.outcome == Finding.Outcome.PENDING)
    return render(
        request,
        "improvements/triage.html",
        {
            "retro": retro,
            "findings": findings,
            "pending": pending,
            "can_edit": retro.is_submitted and permissions.can_triage(request.user, retro),
        },
        status=status,
    )


@require_safe
def retro_triage(request: HttpRequest, pk: int) -> HttpResponse:
    """A submitted retro's pains and ideas, each with its three ways out."""
    return _retro_triage_page(request, pk)


def _finding_for_triage(request: HttpRequest, pk: int) -> Finding:
    finding = get_object_or_404(Finding.objects.select_related("retro__duty_week__unit"), pk=pk)
    if not permissions.can_triage(request.user, finding.retro):
        raise PermissionDenied("Only the retro's people, the platform team and staff triage.")
    if not finding.needs_triage:
        raise PermissionDenied("Only pains and ideas are triaged.")
    return finding


def _lock_pending(request: HttpRequest, finding: Finding) -> Finding | None:
    """The finding locked for this transaction, or None (with a message) if it moved on."""
    locked = Finding.objects.select_for_update().get(pk=finding.pk)
    if not finding.retro.is_submitted:
        messages.error(request, "Submit the retro first, then triage it.")
        return None
    if (
        locked.outcome != Finding.Outcome.PENDING
        or FindingLink.objects.filter(finding=locked).exists()
    ):
        messages.info(request, "That finding was already triaged.")
        return None
    return locked


def _done(request: HttpRequest, finding: Finding) -> HttpResponse:
    return redirect(f"{_triage_url(finding)}#triage-{finding.pk}")


def _triage_url(finding: Finding) -> str:
    return reverse("retro_triage", args=[finding.retro_id])


@require_POST
def finding_promote(request: HttpRequest, pk: int) -> HttpResponse:
    """Turn a retro finding into a new improvement card in the first column."""
    finding = _finding_for_triage(request, pk)
    form = PromoteForm(request.POST, auto_id=f"f{finding.pk}-%s")
    if not form.is_valid():
        return _retro_triage_page(
            request, finding.retro_id, bound={("promote", finding.pk): form}, status=400
        )
    with transaction.atomic():
        locked = _lock_pending(request, finding)
        if locked is None:
            return _done(request, finding)
        improvement = promote_finding(
            locked,
            request.user,
            title=form.cleaned_data["title"],
            category=form.cleaned_data["category"],
            unit=form.cleaned_data["unit"],
            assignee=form.cleaned_data["assignee"],
        )
    messages.success(request, f"Created improvement “{improvement.title}”.")
    return _done(request, finding)


@require_POST
def finding_link(request: HttpRequest, pk: int) -> HttpResponse:
    """Let a finding join an existing improvement; another retro raising it adds recurrence."""
    finding = _finding_for_triage(request, pk)
    form = LinkForm(request.POST)
    if not form.is_valid():
        error = " ".join(form.errors.get("improvement", ["Choose an improvement."]))
        return _retro_triage_page(
            request, finding.retro_id, bound={("link", pk): error}, status=400
        )
    with transaction.atomic():
        locked = _lock_pending(request, finding)
        if locked is None:
            return _done(request, finding)
        improvement = form.cleaned_data["improvement"]
        link_finding(locked, improvement, request.user)
    recurrence = Improvement.objects.with_recurrence().get(pk=improvement.pk).recurrence
    messages.success(
        request,
        f"Linked to “{improvement.title}”, now raised by {recurrence} "
        f"retro{'s' if recurrence != 1 else ''}.",
    )
    return _done(request, finding)


@require_POST
def finding_no_action(request: HttpRequest, pk: int) -> HttpResponse:
    finding = _finding_for_triage(request, pk)
    form = NoActionForm(request.POST, auto_id=f"f{finding.pk}-%s")
    if not form.is_valid():
        return _retro_triage_page(
            request, finding.retro_id, bound={("no_action", finding.pk): form}, status=400
        )
    with transaction.atomic():
        locked = _lock_pending(request, finding)
        if locked is None:
            return _done(request, finding)
        dismiss_finding(locked, form.cleaned_data["reason"])
    messages.success(request, "Closed without action.")
    return _done(request, finding)


@require_POST
def finding_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    """Undo a triage decision made by mistake; a card it created stays on the board."""
    finding = _finding_for_triage(request, pk)
    with transaction.atomic():
        Finding.objects.select_for_update().get(pk=finding.pk)
        reopen_finding(finding)
    messages.success(request, "The finding waits for triage again.")
    return _done(request, finding)


@require_GET
def improvement_search(request: HttpRequest) -> HttpResponse:
    """Search-as-you-type for an open improvement to link a finding to."""
    # A NUL byte cannot be searched for (PostgreSQL refuses it in a pattern): drop it.
    query = request.GET.get("q", "").replace("\x00", "").strip()[:200]
    finding = None
    if request.GET.get("finding", "").isdigit():
        finding = (
            Finding.objects.select_related("retro__duty_week__unit")
            .filter(pk=request.GET["finding"])
            .first()
        )
    results = []
    if query:
        words = query.split()
        condition = Q()
        for word in words:
            condition &= Q(title__icontains=word) | Q(description__icontains=word)
        results = list(
            Improvement.objects.open()
            .filter(condition)
            .select_related("column", "category", "unit")
            .with_recurrence()
            .order_by("-recurrence", "-created_at")[:SEARCH_RESULTS]
        )
    context = {
        "query": query,
        "results": results,
        "finding": finding,
        "can_link": finding is not None
        and finding.retro.is_submitted
        and finding.outcome == Finding.Outcome.PENDING
        and permissions.can_triage(request.user, finding.retro),
    }
    if request.htmx:
        return render(request, "improvements/improvement_search.html#results", context)
    return render(request, "improvements/improvement_search.html", context)


def _carry_over(retro: Retrospective):
    """Open improvements this unit raised in earlier retros, or owns, but not this retro's."""
    unit = retro.duty_week.unit
    earlier = Q(
        finding_links__finding__retro__duty_week__unit=unit,
        finding_links__finding__retro__duty_week__week_start__lt=retro.duty_week.week_start,
    )
    finished = Column.objects.filter(state__in=[Column.State.DONE, Column.State.DROPPED])
    ids = (
        Improvement.objects.open()
        .exclude(column__in=finished)
        .filter(earlier | Q(unit=unit))
        .exclude(finding_links__finding__retro=retro)
        .values("pk")
    )
    return (
        Improvement.objects.filter(pk__in=ids)
        .select_related("column", "category", "assignee")
        .with_recurrence()
        .order_by("column__position", "position")
    )


class NoteForm(forms.Form):
    note = forms.CharField(max_length=300, label="Progress note")

    def clean_note(self) -> str:
        note = " ".join(self.cleaned_data["note"].split())
        if not note:
            raise forms.ValidationError("Write a short note, or leave it blank.")
        return note


@require_GET
def carry_over(request: HttpRequest, pk: int) -> HttpResponse:
    """The carry-over review for a retro: a fragment for its page, or a page of its own."""
    retro = get_object_or_404(Retrospective.objects.select_related("duty_week__unit"), pk=pk)
    context = {
        "retro": retro,
        "improvements": list(_carry_over(retro)),
        "can_edit": permissions.can_add_progress_note(request.user, retro),
    }
    if request.htmx:
        return render(request, "improvements/carry_over.html#carry-over", context)
    return render(request, "improvements/carry_over.html", context)


@require_POST
def carry_over_note(request: HttpRequest, pk: int, improvement_pk: int) -> HttpResponse:
    """Save a one-line progress note on a carried-over improvement as a comment on its card."""
    retro = get_object_or_404(Retrospective.objects.select_related("duty_week__unit"), pk=pk)
    if not permissions.can_add_progress_note(request.user, retro):
        raise PermissionDenied("Only the people writing this retro add progress notes.")
    improvement = get_object_or_404(_carry_over(retro), pk=improvement_pk)
    form = NoteForm(request.POST, auto_id=f"note-{improvement.pk}-%s")
    if form.is_valid():
        add_progress_note(improvement, request.user, form.cleaned_data["note"], retro=retro)
    context = {
        "retro": retro,
        "improvement": improvement,
        "can_edit": True,
        "form": form,
        "noted": form.cleaned_data.get("note") if form.is_valid() else None,
    }
    if request.htmx:
        return render(request, "improvements/carry_over.html#carry-over-item", context)
    if form.is_valid():
        messages.success(request, f"Noted on “{improvement.title}”.")
        return redirect(retro)
    context["improvements"] = [improvement]
    return render(request, "improvements/carry_over.html", context, status=400)
