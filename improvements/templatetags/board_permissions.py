"""The board's permission rules as template filters: `{% if user|can_set_verdict:card %}`."""

from django import template

from improvements import permissions

register = template.Library()

register.filter("can_edit_board", permissions.can_edit_board)
register.filter("can_edit_columns", permissions.can_edit_columns)
register.filter("can_set_verdict", permissions.can_set_verdict)
register.filter("can_triage", permissions.can_triage)
register.filter("can_add_progress_note", permissions.can_add_progress_note)
register.filter("can_change_target_step", permissions.can_change_target_step)
