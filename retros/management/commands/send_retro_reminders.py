"""Email the unit on duty when its retro is not submitted; run it from cron at the week's end."""

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.tasks import TaskResultStatus

from retros.tasks import send_retro_reminders


class Command(BaseCommand):
    help = (
        "Email the people on deployment duty whose retro is not submitted. "
        "Run it at the end of the duty week (e.g. Friday afternoon)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--week",
            help="Any date in the duty week to remind about, YYYY-MM-DD (default: today).",
        )

    def handle(self, *args: Any, week: str | None = None, **options: Any) -> None:
        if week:
            try:
                datetime.date.fromisoformat(week)
            except ValueError as error:
                raise CommandError("Give --week as a date, YYYY-MM-DD.") from error
        result = send_retro_reminders.enqueue(week_start=week)
        if result.status == TaskResultStatus.SUCCESSFUL:
            self.stdout.write(f"Sent {result.return_value} reminder(s).")
        elif result.status == TaskResultStatus.FAILED:
            failure = result.errors[-1]
            raise CommandError(
                f"Sending reminders failed with {failure.exception_class_path}:\n"
                f"{failure.traceback}"
            )
        else:
            self.stdout.write(f"Queued the reminders as task {result.id}.")
