"""Workflows that span both apps: a retro finding becoming, or joining, an improvement."""

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from retros import outbox
from retros.models import Finding, Retrospective

from . import notifications
from .models import Category, Column, Comment, Event, FindingLink, Improvement

# Words in a finding that hint at its category, checked in this order.
CATEGORY_HINTS = [
    ("flaky", "flaky-e2e"),
    ("manual test", "drop-manual-test"),
    ("toggle", "release-toggle"),
    ("feature flag", "release-toggle"),
    ("smoke", "smoke-test"),
    ("document", "documentation"),
    ("runbook", "documentation"),
    ("wiki", "documentation"),
    ("wait", "remove-waste"),
    ("changelog", "remove-waste"),
    ("script", "tooling"),
    ("tool", "tooling"),
]


def guess_category(text: str, categories: dict[str, Category] | None = None) -> Category | None:
    """The category a finding's words hint at; pass `categories` by slug to save queries."""
    lowered = text.lower()
    slug = next((slug for word, slug in CATEGORY_HINTS if word in lowered), "automate")
    if categories is not None:
        return categories.get(slug) or next(iter(categories.values()), None)
    return Category.objects.filter(slug=slug).first() or Category.objects.first()


def title_from(text: str) -> str:
    first_line = text.strip().splitlines()[0] if text.strip() else ""
    return first_line[:200]


@transaction.atomic
def create_improvement(
    *,
    title: str,
    category: Category,
    user: User,
    column: Column | None = None,
    **fields: Any,
) -> Improvement:
    """A new card at the bottom of `column`, by default the board's first column."""
    column = column or Column.objects.order_by("position").first()
    if column is None:
        raise Column.DoesNotExist("The board has no columns to put a card in.")
    Column.objects.select_for_update().filter(pk=column.pk).first()
    improvement = Improvement.objects.create(
        title=title,
        category=category,
        column=column,
        position=Improvement.next_position(column),
        created_by=user,
        **fields,
    )
    Event.objects.create(
        improvement=improvement, kind=Event.Kind.CREATED, actor=user, to_column=column
    )
    improvement.column = column
    outbox.enqueue(notifications.card_created(improvement, user))
    return improvement


@transaction.atomic
def link_finding(finding: Finding, improvement: Improvement, user: User) -> FindingLink:
    # Saving the link marks the finding as triaged (FindingLink.save).
    link = FindingLink.objects.create(finding=finding, improvement=improvement, linked_by=user)
    Event.objects.create(
        improvement=improvement,
        kind=Event.Kind.LINKED,
        actor=user,
        data={"finding": finding.pk, "retro": finding.retro_id},
    )
    return link


@transaction.atomic
def promote_finding(
    finding: Finding,
    user: User,
    *,
    title: str = "",
    category: Category | None = None,
    **fields: Any,
) -> Improvement:
    """Turn a finding into a new improvement card, linked back to its retro."""
    category = category or guess_category(finding.text)
    if category is None:
        raise Category.DoesNotExist("There is no category to file the card under.")
    improvement = create_improvement(
        title=title or title_from(finding.text),
        category=category,
        user=user,
        description=finding.text,
        **fields,
    )
    link_finding(finding, improvement, user)
    return improvement


@transaction.atomic
def dismiss_finding(finding: Finding, reason: str) -> None:
    """Close a finding without an improvement; the reason stays with it in the retro."""
    finding.set_outcome(Finding.Outcome.NO_ACTION, reason)


@transaction.atomic
def reopen_finding(finding: Finding, user: User | None = None) -> None:
    """Undo a finding's triage: it loses its link (the card stays, and its history says so)
    and waits again."""
    link = FindingLink.objects.select_related("improvement").filter(finding=finding).first()
    if link is not None:
        link.improvement.unlink_finding(finding, user)
        return
    finding.set_outcome(Finding.Outcome.PENDING)


@transaction.atomic
def add_progress_note(
    improvement: Improvement, user: User, body: str, retro: Retrospective | None = None
) -> Comment:
    """A progress note on a card, as a comment with its event (from a retro's carry-over)."""
    comment = Comment.objects.create(improvement=improvement, author=user, body=body)
    Event.objects.create(
        improvement=improvement,
        kind=Event.Kind.COMMENTED,
        actor=user,
        data={"comment": comment.pk, **({"retro": retro.pk} if retro else {})},
    )
    return comment
