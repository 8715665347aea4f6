"""The improvements app: on start, teach SQLite connections the percentile aggregate (and
name the empty choice of every select)."""

from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models import fields


class ImprovementsConfig(AppConfig):
    name = "improvements"

    def ready(self) -> None:
        from . import notifications
        from .reporting.metrics import register_sqlite_functions

        notifications.register()

        connection_created.connect(register_sqlite_functions, dispatch_uid="wb_percentile")
        # Django 6.1's empty choice reads "- Select an option -"; Django asks apps to set
        # their own here. Optional people fields say "Nobody" instead (retros.people).
        fields.BLANK_CHOICE_LABEL = "Choose…"
