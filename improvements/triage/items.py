"""What triage works on: a retro's findings as rows (alone or grouped), and the open
improvements its carry-over review shows."""

from typing import TYPE_CHECKING

from django.db.models import Count, Q
from django.urls import reverse

from retros.models import (
    Finding,
    FindingGroup,
    Retrospective,
    Vote,
    most_pressing_kind,
    rank,
)

from ..models import Column, Improvement, ImprovementQuerySet

if TYPE_CHECKING:
    from ..forms.triage import NoActionForm, PromoteForm


class TriageItem:
    """One row of triage: a finding on its own, or a group of findings triaged as one."""

    # Set by the triage page for its row: the forms (with a rejected one's input) and the
    # reason a join was refused, with the card that was chosen.
    promote_form: "PromoteForm"
    no_action_form: "NoActionForm"
    link_error: tuple[str, int | None] | None

    def __init__(
        self, retro: Retrospective, findings: list[Finding], group: FindingGroup | None = None
    ) -> None:
        self.retro, self.findings, self.group = retro, findings, group
        if group is not None:
            self.pk, self.text, self.created_at = group.pk, group.title, group.created_at
        else:
            first = findings[0]  # a finding triaged alone
            self.pk, self.text, self.created_at = first.pk, first.text, first.created_at
        self.key = f"g{self.pk}" if group else f"f{self.pk}"
        self.kind = most_pressing_kind(findings)
        self.votes_total = 0
        pending = [finding for finding in findings if finding.outcome == Finding.Outcome.PENDING]
        self.pending = bool(pending)
        self.triaged = [finding for finding in findings if finding not in pending]
        self.suggestions: list[Improvement] = []
        self.choice = "new"
        self.chosen_card: int | None = None

    def get_kind_display(self) -> str:
        return Finding.Kind(self.kind).label

    def url(self, action: str) -> str:
        if self.group:
            return reverse(f"triage:group_{action}", args=[self.pk])
        return reverse(f"triage:finding_{action}", args=[self.pk])

    def promote_url(self) -> str:
        return self.url("promote")

    def link_url(self) -> str:
        return self.url("link")

    def no_action_url(self) -> str:
        return self.url("no_action")

    def reopen_url(self) -> str:
        return self.url("reopen")


def triage_items(retro: Retrospective) -> list[TriageItem]:
    """The pains and ideas, alone or in groups, most votes first (then pains before ideas)."""
    findings = list(
        retro.findings.select_related("link__improvement__column", "group").order_by(
            "created_at", "id"
        )
    )
    votes = {}
    for row in (
        Vote.objects.filter(retro=retro).values("finding_id", "group_id").annotate(n=Count("id"))
    ):
        votes[("f", row["finding_id"]) if row["finding_id"] else ("g", row["group_id"])] = row["n"]
    grouped: dict[int, list[Finding]] = {}
    items = []
    for finding in findings:
        if finding.group_id:
            grouped.setdefault(finding.group_id, []).append(finding)
        elif finding.needs_triage:
            item = TriageItem(retro, [finding])
            item.votes_total = votes.get(("f", finding.pk), 0)
            items.append(item)
    for members in grouped.values():
        if any(member.needs_triage for member in members):
            item = TriageItem(retro, members, group=members[0].group)
            item.votes_total = votes.get(("g", item.pk), 0)
            items.append(item)
    return rank(items)


def carried_over(retro: Retrospective) -> ImprovementQuerySet:
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
