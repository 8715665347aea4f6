"""The retros app's permission rules as template filters: `{% if user|can_edit_retro:retro %}`."""

from django import template

from retros import permissions

register = template.Library()

register.filter("can_manage_rotation", permissions.can_manage_rotation)
register.filter("can_renew_unit_feed", permissions.can_renew_unit_feed)
register.filter("can_log_deployments", permissions.can_log_deployments)
register.filter("can_edit_process", permissions.can_edit_process)
register.filter("can_start_retro", permissions.can_start_retro)
register.filter("can_edit_retro", permissions.can_edit_retro)
