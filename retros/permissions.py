"""Who may change what in the retros app, one rule each, used by views and templates alike."""

from .models import Unit
from .rotation import can_manage


def can_manage_chat(user, unit: Unit | None) -> bool:
    """A unit's chat channels: its members and whoever manages units (staff, the platform
    team). The organisation-wide channels (no unit): only those managers."""
    if not user.is_authenticated or not user.is_active:
        return False
    if can_manage(user):
        return True
    return unit is not None and unit.members.filter(pk=user.pk).exists()


def chat_units_for(user):
    """The units whose chat channels `user` may set up."""
    if can_manage(user):
        return Unit.objects.filter(is_active=True)
    return Unit.objects.filter(is_active=True, members=user)
