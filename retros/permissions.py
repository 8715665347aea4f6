"""Who may do what in a retro: the rules views and templates share."""

from .models import Finding, Retrospective


def can_edit_retro(user, retro: Retrospective) -> bool:
    """Before submit, the people of the duty week (and staff) write; after, the facilitator."""
    return retro.can_edit(user)


def can_facilitate(user, retro: Retrospective) -> bool:
    """Moving the meeting on (phases, private writing, the vote budget) is the facilitator's.

    Staff may step in; a retro without a facilitator is run by whoever may write it.
    """
    if retro.is_submitted or not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    if retro.facilitator_id:
        return user.pk == retro.facilitator_id
    return retro.can_edit(user)


def can_group(user, retro: Retrospective) -> bool:
    """Grouping shapes what gets triaged, so it ends when the retro is submitted."""
    return not retro.is_submitted and retro.can_edit(user)


def can_vote(user, retro: Retrospective) -> bool:
    return (
        not retro.is_submitted and retro.phase == Retrospective.Phase.VOTE and retro.can_edit(user)
    )


def can_see_finding(user, retro: Retrospective, finding: Finding) -> bool:
    """During private writing a finding is its author's alone."""
    if not retro.findings_hidden or retro.is_submitted:
        return True
    return finding.author_id == user.pk


def can_remove_finding(user, retro: Retrospective, finding: Finding) -> bool:
    """A triaged finding stays until its triage is undone, or the card would lose it silently."""
    return retro.can_edit(user) and not finding.is_triaged
