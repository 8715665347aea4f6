"""Views of a submitted retro's triage (findings into improvements) and its carry-over review.

Both live here, not in `retros`, because they read and write the board; the retro page loads
them as fragments.
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST, require_safe

from retros.http import HtmxHttpRequest
from retros.models import (
    Finding,
    FindingGroup,
    Retrospective,
)

from .. import permissions
from ..forms.triage import LinkForm, NoActionForm, NoteForm, PromoteForm
from ..models import Category, Column, FindingLink, Improvement
from ..operations import (
    dismiss_finding,
    guess_category,
    promote_finding,
    reopen_finding,
    title_from,
)
from ..triage.items import TriageItem, carried_over, triage_items
from ..triage.similar import LIKELY_SAME, similar_improvements

SEARCH_RESULTS = 10


def _retro_triage_page(
    request: HtmxHttpRequest,
    pk: int,
    bound: dict[tuple[str, str], Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """Every pain and idea of the retro (or group of them), each with its three ways out.

    `bound` holds a rejected form by item key, so the page shows it with the input kept.
    """
    retro = get_object_or_404(Retrospective.objects.select_related("duty_week__unit"), pk=pk)
    items = triage_items(retro)
    categories = list(Category.objects.all())
    by_slug = {category.slug: category for category in categories}
    bound = bound or {}
    can_edit = retro.is_submitted and permissions.can_triage(request.user, retro)
    pending = [item for item in items if item.pending]
    suggestions = similar_improvements([item.text for item in pending]) if can_edit else []
    # Every item's form offers the same choices: read them once, not once per form.
    shared = PromoteForm()
    choices = {}
    for name in ("category", "unit", "assignee"):
        field = shared.fields[name]
        assert isinstance(field, forms.ModelChoiceField)
        # django-stubs types the getter as all the setter takes; Django gives an iterator.
        choices[name] = list(field.choices)  # type: ignore[arg-type]
    for item, similar in zip(pending, suggestions, strict=False):
        item.suggestions = similar
        likely = similar[0] if similar and similar[0].similarity >= LIKELY_SAME else None
        item.choice = "link" if likely else "new"
        item.chosen_card = likely.pk if likely else None
    for item in pending:
        text = " ".join(finding.text for finding in item.findings) if item.group else item.text
        guessed = guess_category(text, categories=by_slug)
        item.promote_form = bound.get(("promote", item.key)) or PromoteForm(
            initial={
                "title": title_from(item.text),
                "category": guessed.pk if guessed else None,
                "unit": retro.duty_week.unit_id,
            },
            auto_id=f"{item.key}-%s",
        )
        for name, options in choices.items():
            item.promote_form.fields[name].widget.choices = options
        item.no_action_form = bound.get(("no_action", item.key)) or NoActionForm(
            auto_id=f"{item.key}-%s"
        )
        item.link_error = bound.get(("link", item.key))
        for kind in ("promote", "link", "no_action"):
            if (kind, item.key) in bound:
                item.choice = {"promote": "new", "link": "link", "no_action": "none"}[kind]
        if item.link_error and item.link_error[1]:
            item.chosen_card = item.link_error[1]
    return render(
        request,
        "improvements/triage.html",
        {
            "retro": retro,
            "items": items,
            "pending": len(pending),
            "can_edit": can_edit,
        },
        status=status,
    )


@require_safe
def retro_triage(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A submitted retro's pains and ideas, each with its three ways out."""
    return _retro_triage_page(request, pk)


def _finding_for_triage(request: HtmxHttpRequest, pk: int, *, undo: bool = False) -> TriageItem:
    finding = get_object_or_404(Finding.objects.select_related("retro__duty_week__unit"), pk=pk)
    if not permissions.can_triage(request.user, finding.retro):
        raise PermissionDenied("Only the retro's people, the platform team and staff triage.")
    if not finding.needs_triage:
        raise PermissionDenied("Only pains and ideas are triaged.")
    # A grouped finding is triaged with its group; only undoing its own earlier triage
    # (made before it was grouped) stays possible on its own.
    if finding.group_id and not undo:
        raise PermissionDenied("This finding is triaged with its group.")
    return TriageItem(finding.retro, [finding])


def _group_for_triage(request: HtmxHttpRequest, pk: int) -> TriageItem:
    group = get_object_or_404(FindingGroup.objects.select_related("retro__duty_week__unit"), pk=pk)
    if not permissions.can_triage(request.user, group.retro):
        raise PermissionDenied("Only the retro's people, the platform team and staff triage.")
    findings = list(group.findings.order_by("created_at", "id"))
    if not any(finding.needs_triage for finding in findings):
        raise PermissionDenied("Only groups with a pain or an idea are triaged.")
    return TriageItem(group.retro, findings, group=group)


def _lock_pending(request: HtmxHttpRequest, item: TriageItem) -> list[Finding] | None:
    """The item's findings locked for this transaction, or None (with a message) if one of
    them moved on meanwhile."""
    locked = list(
        Finding.objects.select_for_update()
        .filter(pk__in=[finding.pk for finding in item.findings])
        .order_by("created_at", "id")
    )
    if not item.retro.is_submitted:
        messages.error(request, "Submit the retro first, then triage it.")
        return None
    linked = set(FindingLink.objects.filter(finding__in=locked).values_list("finding", flat=True))
    pending = [
        finding
        for finding in locked
        if finding.outcome == Finding.Outcome.PENDING and finding.pk not in linked
    ]
    # A group is triaged for the findings still waiting; a finding alone only if it waits.
    if not pending or (item.group is None and len(pending) != len(locked)):
        messages.info(request, "That finding was already triaged.")
        return None
    return pending


def _done(request: HtmxHttpRequest, item: TriageItem) -> HttpResponse:
    return redirect(f"{reverse('triage:retro_triage', args=[item.retro.pk])}#triage-{item.key}")


def _promote(request: HtmxHttpRequest, item: TriageItem) -> HttpResponse:
    """Turn a finding (or a group) into a new improvement card in the first column."""
    form = PromoteForm(request.POST, auto_id=f"{item.key}-%s")
    if not form.is_valid():
        return _retro_triage_page(
            request, item.retro.pk, bound={("promote", item.key): form}, status=400
        )
    try:
        with transaction.atomic():
            locked = _lock_pending(request, item)
            if locked is None:
                return _done(request, item)
            improvement = promote_finding(
                locked[0],
                request.user,
                title=form.cleaned_data["title"],
                category=form.cleaned_data["category"],
                unit=form.cleaned_data["unit"],
                assignee=form.cleaned_data["assignee"],
            )
            if len(locked) > 1:
                improvement.description = "\n\n".join(finding.text for finding in locked)
                improvement.save(update_fields=["description"])
                for finding in locked[1:]:
                    improvement.link_finding(finding, request.user)
    except Column.DoesNotExist:  # an admin deleted every column (possible while no card is in one)
        messages.error(
            request,
            "The board has no columns to put a card in yet: staff add one under the board's "
            "column settings. Nothing was changed.",
        )
        return _retro_triage_page(
            request, item.retro.pk, bound={("promote", item.key): form}, status=409
        )
    messages.success(request, f"Created improvement “{improvement.title}”.")
    return _done(request, item)


def _link(request: HtmxHttpRequest, item: TriageItem) -> HttpResponse:
    """Let a finding (or group) join an existing improvement; another retro raising it adds
    recurrence. A done card is reopened, or kept done, as the person triaging says."""
    form = LinkForm(request.POST)
    if not form.is_valid():
        errors = form.errors.get("improvement") or form.non_field_errors()
        error = " ".join(str(message) for message in errors) or "Choose an improvement."
        chosen = request.POST.get("improvement", "")
        return _retro_triage_page(
            request,
            item.retro.pk,
            bound={("link", item.key): (error, int(chosen) if chosen.isdecimal() else None)},
            status=400,
        )
    improvement = form.cleaned_data["improvement"]
    with transaction.atomic():
        locked = _lock_pending(request, item)
        if locked is None:
            return _done(request, item)
        for finding in locked:
            improvement.link_finding(finding, request.user)
        reopened = form.cleaned_data.get("reopen") == "yes" and improvement.reopen(
            request.user, finding=locked[0]
        )
    recurrence = Improvement.objects.with_recurrence().get(pk=improvement.pk).recurrence
    messages.success(
        request,
        f"Linked to “{improvement.title}”{', reopened it' if reopened else ''}, now raised by "
        f"{recurrence} retro{'s' if recurrence != 1 else ''}.",
    )
    return _done(request, item)


def _no_action(request: HtmxHttpRequest, item: TriageItem) -> HttpResponse:
    form = NoActionForm(request.POST, auto_id=f"{item.key}-%s")
    if not form.is_valid():
        return _retro_triage_page(
            request, item.retro.pk, bound={("no_action", item.key): form}, status=400
        )
    with transaction.atomic():
        locked = _lock_pending(request, item)
        if locked is None:
            return _done(request, item)
        for finding in locked:
            dismiss_finding(finding, form.cleaned_data["reason"])
    messages.success(request, "Closed without action.")
    return _done(request, item)


def _reopen(request: HtmxHttpRequest, item: TriageItem) -> HttpResponse:
    """Undo a triage decision made by mistake; a card it created stays on the board, and its
    history records the unlink."""
    with transaction.atomic():
        for finding in Finding.objects.select_for_update().filter(
            pk__in=[finding.pk for finding in item.findings]
        ):
            reopen_finding(finding, request.user)
    messages.success(request, "Waiting for triage again.")
    return _done(request, item)


@require_POST
def finding_promote(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _promote(request, _finding_for_triage(request, pk))


@require_POST
def finding_link(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _link(request, _finding_for_triage(request, pk))


@require_POST
def finding_no_action(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _no_action(request, _finding_for_triage(request, pk))


@require_POST
def finding_reopen(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _reopen(request, _finding_for_triage(request, pk, undo=True))


@require_POST
def group_promote(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _promote(request, _group_for_triage(request, pk))


@require_POST
def group_link(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _link(request, _group_for_triage(request, pk))


@require_POST
def group_no_action(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _no_action(request, _group_for_triage(request, pk))


@require_POST
def group_reopen(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _reopen(request, _group_for_triage(request, pk))


@require_GET
def improvement_search(request: HtmxHttpRequest) -> HttpResponse:
    """Search-as-you-type for an open improvement to link a finding (or group) to.

    Given a finding or group and no words yet, it suggests the cards most similar to it.
    With `pick`, the results are choices inside the triage row's join form.
    """
    # A NUL byte cannot be searched for (PostgreSQL refuses it in a pattern): drop it.
    query = request.GET.get("q", "").replace("\x00", "").strip()[:200]
    item = None
    if request.GET.get("finding", "").isdigit():
        finding = (
            Finding.objects.select_related("retro__duty_week__unit")
            .filter(pk=request.GET["finding"])
            .first()
        )
        item = TriageItem(finding.retro, [finding]) if finding else None
    elif request.GET.get("group", "").isdigit():
        group = (
            FindingGroup.objects.select_related("retro__duty_week__unit")
            .filter(pk=request.GET["group"])
            .first()
        )
        members = list(group.findings.order_by("created_at", "id")) if group else []
        item = TriageItem(group.retro, members, group=group) if group and members else None
    results = []
    if query:
        words = query.split()
        condition = Q()
        for word in words:
            condition &= Q(title__icontains=word) | Q(description__icontains=word)
        results = list(
            Improvement.objects.open()
            .filter(condition)
            .exclude(column__state=Column.State.DROPPED)
            .select_related("column", "category", "unit")
            .with_recurrence()
            # django-stubs cannot see the annotation a custom QuerySet method adds.
            .order_by("-recurrence", "-created_at")[:SEARCH_RESULTS]  # type: ignore[misc]
        )
    elif item is not None:
        results = similar_improvements([item.text], limit=SEARCH_RESULTS // 2)[0]
    context = {
        "query": query,
        "results": results,
        "item": item,
        "finding": item.findings[0] if item and not item.group else None,
        "pick": request.GET.get("pick") == "1",
        "can_link": item is not None
        and item.retro.is_submitted
        and item.pending
        and permissions.can_triage(request.user, item.retro),
    }
    if request.htmx:
        return render(request, "improvements/improvement_search.html#results", context)
    return render(request, "improvements/improvement_search.html", context)


@require_GET
def carry_over(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The carry-over review for a retro: a fragment for its page, or a page of its own."""
    retro = get_object_or_404(Retrospective.objects.select_related("duty_week__unit"), pk=pk)
    context = {
        "retro": retro,
        "improvements": list(carried_over(retro)),
        "can_edit": permissions.can_add_progress_note(request.user, retro),
    }
    if request.htmx:
        return render(request, "improvements/carry_over.html#carry-over", context)
    return render(request, "improvements/carry_over.html", context)


@require_POST
def carry_over_note(request: HtmxHttpRequest, pk: int, improvement_pk: int) -> HttpResponse:
    """Save a one-line progress note on a carried-over improvement as a comment on its card."""
    retro = get_object_or_404(Retrospective.objects.select_related("duty_week__unit"), pk=pk)
    if not permissions.can_add_progress_note(request.user, retro):
        raise PermissionDenied("Only the people writing this retro add progress notes.")
    improvement = get_object_or_404(carried_over(retro), pk=improvement_pk)
    form = NoteForm(request.POST, auto_id=f"note-{improvement.pk}-%s")
    if form.is_valid():
        improvement.comment(form.cleaned_data["note"], author=request.user, retro=retro)
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
