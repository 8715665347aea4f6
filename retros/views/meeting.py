"""The retro as a meeting: findings by kind, phases, private writing, groups and votes.

The retro page (retros/views/retros.py) renders what `meeting_context` builds; the views here make
the meeting's changes. Every change touches the retro, so attendees' polls see it.
"""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .. import permissions
from ..http import HtmxHttpRequest
from ..models import (
    MAX_VOTES_PER_PERSON,
    Finding,
    FindingGroup,
    Retrospective,
    Vote,
    most_pressing_kind,
    rank,
)
from ..permissions import AnyUser

PHASES = list(Retrospective.Phase)


def meeting_etag(retro: Retrospective, user: AnyUser, can_edit: bool) -> str:
    # Every change to findings, groups, votes or the phase touches the retro, so its
    # updated_at versions the meeting; the user is in the key because what one sees
    # (private writing, one's own votes) is one's own.
    return f'W/"meeting-{retro.pk}-{retro.updated_at.timestamp()}-{int(can_edit)}-{user.pk}"'


def meeting_context(
    retro: Retrospective, user: AnyUser, can_edit: bool | None = None
) -> dict[str, Any]:
    """Everything the findings part of the retro page shows, in five queries at most."""
    if can_edit is None:
        can_edit = permissions.can_edit_retro(user, retro)
    findings = list(retro.visible_findings(user).select_related("author"))
    votes: dict[tuple[str, int], tuple[int, int]] = {}
    if findings:
        for row in (
            Vote.objects.filter(retro=retro)
            .values("finding_id", "group_id")
            .annotate(total=Count("id"), mine=Count("id", filter=Q(voter_id=user.pk)))
        ):
            key = ("f", row["finding_id"]) if row["finding_id"] else ("g", row["group_id"])
            votes[key] = (row["total"], row["mine"])
    groups = {group.pk: group for group in retro.groups.all()} if findings else {}
    for group in groups.values():
        group.members = []
        group.votes_total, group.my_votes = votes.get(("g", group.pk), (0, 0))
    for finding in findings:
        finding.votes_total, finding.my_votes = votes.get(("f", finding.pk), (0, 0))
        if finding.group_id in groups:
            groups[finding.group_id].members.append(finding)
    shown_groups = [group for group in groups.values() if group.members]
    for group in shown_groups:
        # A group is discussed (and ranked) as its most pressing kind, from its oldest finding.
        group.kind = most_pressing_kind(group.members)
    loose = [finding for finding in findings if finding.group_id not in groups]
    columns = [
        {
            "kind": kind,
            "label": label,
            "findings": [finding for finding in loose if finding.kind == kind],
        }
        for kind, label in Finding.Kind.choices
    ]
    hidden_count = 0
    if retro.findings_hidden and not retro.is_submitted:
        hidden_count = retro.findings.exclude(author_id=user.pk).count()
    my_votes = sum(mine for _total, mine in votes.values())
    phase_values = Retrospective.Phase.values
    phase_index = phase_values.index(retro.phase) if retro.phase in phase_values else 0
    return {
        "retro": retro,
        "can_edit": can_edit,
        "can_facilitate": permissions.can_facilitate(user, retro),
        "can_group": can_edit and permissions.can_group(user, retro),
        # The grouping controls show in the Group phase; the server accepts groups until submit.
        "grouping": retro.phase == Retrospective.Phase.GROUP
        and can_edit
        and permissions.can_group(user, retro),
        "can_vote": can_edit and permissions.can_vote(user, retro),
        "findings": findings,
        "columns": columns,
        "groups": shown_groups,
        "ranked": [item for item in rank(shown_groups + loose) if item.votes_total]
        if retro.vote_totals_shown
        else [],
        "finding_kinds": Finding.Kind.choices,
        "hidden_count": hidden_count,
        "votes_left": max(0, retro.votes_per_person - my_votes),
        "phases": [
            {"value": phase.value, "label": phase.label, "state": _state(n, phase_index)}
            for n, phase in enumerate(PHASES)
        ],
        "previous_phase": PHASES[phase_index - 1] if phase_index > 0 else None,
        "next_phase": PHASES[phase_index + 1] if phase_index + 1 < len(PHASES) else None,
        "max_votes": MAX_VOTES_PER_PERSON,
        "findings_etag": meeting_etag(retro, user, can_edit),
    }


def _state(n: int, current: int) -> str:
    return "current" if n == current else "done" if n < current else "next"


def _locked_retro(request: HtmxHttpRequest, pk: int) -> Retrospective:
    retro = get_object_or_404(
        Retrospective.objects.select_related("duty_week__unit").select_for_update(of=("self",)),
        pk=pk,
    )
    if not permissions.can_edit_retro(request.user, retro):
        raise PermissionDenied("Only the people on duty that week (or staff) take part.")
    return retro


def _answer(request: HtmxHttpRequest, retro: Retrospective, notice: str = "") -> HttpResponse:
    """htmx gets the changed parts of the meeting (out of band); a plain form a redirect."""
    if request.htmx:
        retro.refresh_from_db()
        context = {**meeting_context(retro, request.user), "oob": True, "notice": notice}
        return render(request, "retros/retro_detail.html#meeting-live", context)
    if notice:
        messages.error(request, notice)
    return redirect(retro.get_absolute_url() + "#findings-heading")


@require_POST
def retro_phase(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The facilitator moves the meeting to another phase."""
    with transaction.atomic():
        retro = _locked_retro(request, pk)
        if not permissions.can_facilitate(request.user, retro):
            raise PermissionDenied("Only the facilitator (or staff) moves the meeting on.")
        phase = request.POST.get("phase", "")
        if phase not in Retrospective.Phase.values:
            return _answer(request, retro, "Choose one of the meeting's phases.")
        retro.set_phase(phase)
    return _answer(request, retro)


@require_POST
def retro_privacy(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Private writing on (others' findings hidden until reveal) or off (reveal)."""
    with transaction.atomic():
        retro = _locked_retro(request, pk)
        if not permissions.can_facilitate(request.user, retro):
            raise PermissionDenied("Only the facilitator (or staff) hides or reveals findings.")
        hide = request.POST.get("hidden") == "1"
        if hide and retro.phase != Retrospective.Phase.COLLECT:
            return _answer(request, retro, "Findings can only be hidden while collecting.")
        retro.findings_hidden = hide
        retro.save(update_fields=["findings_hidden", "updated_at"])
    return _answer(request, retro)


@require_POST
def retro_vote_budget(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The facilitator sets how many votes each attendee has."""
    with transaction.atomic():
        retro = _locked_retro(request, pk)
        if not permissions.can_facilitate(request.user, retro):
            raise PermissionDenied("Only the facilitator (or staff) sets the votes.")
        raw = request.POST.get("votes_per_person", "").strip()
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_VOTES_PER_PERSON:
            return _answer(
                request, retro, f"Give each person between 1 and {MAX_VOTES_PER_PERSON} votes."
            )
        retro.votes_per_person = int(raw)
        retro.save(update_fields=["votes_per_person", "updated_at"])
    return _answer(request, retro)


def _finding_in(retro: Retrospective, request: HtmxHttpRequest, value: str) -> Finding | None:
    if not value.isdigit():
        return None
    finding = retro.findings.filter(pk=value).first()
    if finding is None or not permissions.can_see_finding(request.user, retro, finding):
        return None
    return finding


def _target_in(
    retro: Retrospective, request: HtmxHttpRequest, value: str
) -> Finding | FindingGroup | None:
    """A finding ("123" or "f123") or a group ("g45") of this retro, or None."""
    if value.startswith("g") and value[1:].isdigit():
        return retro.groups.filter(pk=value[1:]).first()
    return _finding_in(retro, request, value.removeprefix("f"))


@require_POST
def finding_group(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Group a finding with another finding or a group (a drop, or the "Group with" form)."""
    with transaction.atomic():
        retro = _locked_retro(request, pk)
        if not permissions.can_group(request.user, retro):
            raise PermissionDenied("A submitted retro's groups stay as they were triaged.")
        finding = _finding_in(retro, request, request.POST.get("finding", "").removeprefix("f"))
        target = _target_in(retro, request, request.POST.get("target", ""))
        if finding is None or target is None:
            return _answer(request, retro, "Choose a finding and what to group it with.")
        if target == finding:
            return _answer(request, retro, "A finding cannot be grouped with itself.")
        finding.group_with(target, request.user)
        retro.touch()
    return _answer(request, retro)


@require_POST
def finding_ungroup(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    finding = get_object_or_404(Finding, pk=pk)
    with transaction.atomic():
        retro = _locked_retro(request, finding.retro_id)
        if not permissions.can_group(request.user, retro):
            raise PermissionDenied("A submitted retro's groups stay as they were triaged.")
        finding = Finding.objects.select_related("group").get(pk=pk)
        finding.leave_group()
        retro.touch()
    return _answer(request, retro)


@require_POST
def group_rename(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    group = get_object_or_404(FindingGroup, pk=pk)
    with transaction.atomic():
        retro = _locked_retro(request, group.retro_id)
        if not permissions.can_group(request.user, retro):
            raise PermissionDenied("A submitted retro's groups stay as they were triaged.")
        title = " ".join(request.POST.get("title", "").replace("\x00", "").split())[:200]
        if not title:
            return _answer(request, retro, "Give the group a title.")
        group.title = title
        group.save(update_fields=["title"])
        retro.touch()
    return _answer(request, retro)


@require_POST
def retro_vote(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Spend (or take back) a vote on a finding or a group, within the retro's budget.

    The retro row is locked first, so two tabs voting at once are counted one after the
    other and the budget holds.
    """
    with transaction.atomic():
        retro = _locked_retro(request, pk)
        if not permissions.can_vote(request.user, retro):
            raise PermissionDenied("Votes are cast while the meeting is in its Vote phase.")
        target = _target_in(retro, request, request.POST.get("target", ""))
        if target is None:
            return _answer(request, retro, "Choose a finding or group to vote on.")
        if isinstance(target, Finding) and target.group_id:
            target = target.group
        on = {"group": target} if isinstance(target, FindingGroup) else {"finding": target}
        if request.POST.get("action") == "remove":
            retro.withdraw_vote(request.user, **on)
            notice = ""
        else:
            notice = (
                ""
                if retro.cast_vote(request.user, **on)
                else f"You have used all {retro.votes_per_person} of your votes; "
                "take one back to vote elsewhere."
            )
    return _answer(request, retro, notice)
