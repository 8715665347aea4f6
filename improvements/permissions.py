"""Who may change the board, its cards and columns, and a card's effect verdict.

The board's rules side by side, named for what they allow; views and templates (through the
`board_permissions` template library) ask these. Membership means what retros.permissions
says: of an active unit. README.md has the rules as a table; tests/test_permission_table.py
walks it.

Ownership: a card's owning unit decides who confirms its effect verdict. So that ownership
cannot be borrowed (move a card into your unit, set its verdict, move it back), changing a
card's owner needs the rights over both the old and the new owner; a card with no owner, or
whose owner was deactivated, belongs to everyone who works the board.
"""

from django.db.models import Exists, Value

from retros.models import Retrospective, Unit
from retros.permissions import (
    AnyUser,
    can_edit_process,
    can_edit_retro,
    can_triage,
    is_member_of,
    is_platform_member,
    is_unit_member,
)

from .models import Improvement

__all__ = [
    "can_act_for_owner",
    "can_add_progress_note",
    "can_change_owner",
    "can_change_target_step",
    "can_edit_board",
    "can_edit_board_expression",
    "can_edit_columns",
    "can_set_verdict",
    "can_triage",
]


def can_edit_board(user: AnyUser) -> bool:
    """Add, move, edit, comment on, archive and drop cards: staff and members of any unit."""
    return user.is_staff or is_unit_member(user)


def can_edit_board_expression(user: AnyUser) -> Exists | Value:
    """can_edit_board as an SQL expression, to annotate on the card a write fetches anyway:
    one query fewer on every card move. A test pins it to can_edit_board."""
    if user.is_staff:
        return Value(True)
    if not user.is_authenticated:
        return Value(False)
    return Exists(
        Unit.members.through.objects.filter(user_id=user.pk, unit__is_active=True).filter(
            user__is_active=True
        )
    )


def can_edit_columns(user: AnyUser) -> bool:
    """Name, order, state, WIP limit of the columns: the platform team, which runs the board."""
    return user.is_staff or is_platform_member(user)


def _owner_is_open(unit: Unit | None) -> bool:
    return unit is None or not unit.is_active


def can_act_for_owner(user: AnyUser, unit: Unit | None) -> bool:
    """Rights over what a unit owns: staff, and the unit's members; a card without an (active)
    owner is anyone's who works the board."""
    if user.is_staff:
        return True
    if _owner_is_open(unit):
        return can_edit_board(user)
    return is_member_of(user, unit)


def can_set_verdict(user: AnyUser, card: Improvement) -> bool:
    """Confirm or override whether a finished card helped: its owning unit's members, staff."""
    return can_act_for_owner(user, card.unit)


def can_change_owner(user: AnyUser, card: Improvement, new_unit: Unit | None) -> bool:
    """Hand a card from its owner to another: rights over both (see the module's docstring)."""
    return can_act_for_owner(user, card.unit) and can_act_for_owner(user, new_unit)


def can_change_target_step(user: AnyUser) -> bool:
    """Change the mode of the process step a finished card targets: as for the process map."""
    return can_edit_process(user)


def can_add_progress_note(user: AnyUser, retro: Retrospective) -> bool:
    """A one-line progress note on a carried-over card, from its retro: the retro's writers."""
    return can_edit_retro(user, retro)
