"""The improvements app: on start, fill the places retros pages leave for it, teach SQLite
connections the percentile aggregate (and name the empty choice of every select)."""

from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models import fields


class ImprovementsConfig(AppConfig):
    name = "improvements"

    def ready(self) -> None:
        from retros import page_sections

        from . import notifications
        from .reporting.metrics import register_sqlite_functions

        notifications.register()
        # What retros pages show of improvements (links to triage, the board, the weekly
        # update; a step change's card) comes from here: retros names the places only.
        sections = "improvements/retros_page_sections.html"
        page_sections.register("retro_actions", f"{sections}#retro-actions")
        page_sections.register("retro_follow_up", f"{sections}#retro-follow-up")
        page_sections.register("process_actions", f"{sections}#process-actions")
        page_sections.register(
            "step_change_note", f"{sections}#step-change-note", prefetch=("events__improvement",)
        )

        connection_created.connect(register_sqlite_functions, dispatch_uid="wb_percentile")
        # Django 6.1's empty choice reads "- Select an option -"; Django asks apps to set
        # their own here. Optional people fields say "Nobody" instead (retros.people).
        fields.BLANK_CHOICE_LABEL = "Choose…"
