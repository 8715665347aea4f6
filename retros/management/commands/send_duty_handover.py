"""Tell the chat channels who is on deployment duty this week; run it from cron on Monday."""

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from retros.tasks import send_duty_handover


class Command(BaseCommand):
    help = (
        "Queue Monday's duty handover message (“Payments is on deployment duty this week; "
        "QA …, platform …”) for the unit's and the organisation's chat channels."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--week", help="Any date in the duty week, YYYY-MM-DD (default: today)."
        )

    def handle(self, *args: Any, week: str | None = None, **options: Any) -> None:
        if week:
            try:
                datetime.date.fromisoformat(week)
            except ValueError as error:
                raise CommandError("Give --week as a date, YYYY-MM-DD.") from error
        result = send_duty_handover.enqueue(week_start=week)
        if result.return_value:
            self.stdout.write("Queued the duty handover.")
        else:
            self.stdout.write("No duty week planned for that week; nothing to announce.")
