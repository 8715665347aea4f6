"""Workflows that span both apps: a retro finding becoming, or joining, an improvement."""

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from retros import outbox
from retros.models import Finding

from . import notifications
from .models import Category, Column, FindingLink, Improvement

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
    improvement = Improvement.create_on_board(
        column, user, title=title, category=category, **fields
    )
    outbox.enqueue(notifications.card_created(improvement, user))
    return improvement


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
    improvement.link_finding(finding, user)
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
