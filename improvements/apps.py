"""The improvements app: on start, teach SQLite connections the percentile aggregate."""

from django.apps import AppConfig
from django.db.backends.signals import connection_created


class ImprovementsConfig(AppConfig):
    name = "improvements"

    def ready(self) -> None:
        from . import notifications
        from .metrics import register_sqlite_functions

        notifications.register()

        connection_created.connect(register_sqlite_functions, dispatch_uid="wb_percentile")
