"""Run the outbox worker: send chat messages and outgoing webhooks, with retries."""

import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connection

from retros import outbox

# How often the loop looks for deployment runs blocked past RUN_BLOCKED_ALERT_MINUTES: the
# threshold is in minutes, so half a minute late at most is on time.
BLOCKED_CHECK_SECONDS = 30


class Command(BaseCommand):
    help = (
        "Send what the outbox holds (chat webhooks, signed outgoing webhooks), retrying "
        "failures with exponential backoff. Runs until stopped (SIGTERM or Ctrl-C finish the "
        "message in flight first); --once sends what is due and exits. Each round also tells "
        "chat about deployment runs blocked longer than RUN_BLOCKED_ALERT_MINUTES. Run one or "
        "more next to the web processes; they never take the same message."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Send what is due, then exit.")
        parser.add_argument(
            "--interval", type=float, default=2.0, help="Seconds between polls when idle."
        )
        parser.add_argument("--batch", type=int, default=10, help="Deliveries claimed at once.")

    def handle(self, *args: Any, once: bool, interval: float, batch: int, **options: Any) -> None:
        stopping: list[bool] = []
        tally: outbox.Tally | None

        def stop(*_signal: object) -> None:
            stopping.append(True)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        if once:
            outbox.alert_blocked_runs()
            tally = outbox.drain(batch, stop=lambda: bool(stopping))
            self.stdout.write(f"Sent {tally.sent}, failed {tally.failed} (to be retried).")
            return
        self.stdout.write(f"Delivering the outbox every {interval:g} s; stop with Ctrl-C.")
        last_cleanup = last_blocked_check = 0.0
        while not stopping:
            close_old_connections()
            try:
                if time.monotonic() - last_blocked_check >= BLOCKED_CHECK_SECONDS:
                    outbox.alert_blocked_runs()
                    last_blocked_check = time.monotonic()
                tally = outbox.drain(batch, stop=lambda: bool(stopping))
                if time.monotonic() - last_cleanup > 3600:
                    outbox.forget_old()
                    last_cleanup = time.monotonic()
            except Exception:  # the database away for a moment: keep the worker alive
                self.stderr.write("Outbox round failed; trying again.")
                outbox.logger.exception("Outbox round failed")
                connection.close()  # reconnect next round rather than reuse a broken link
                tally = None
            if tally and tally.sent + tally.failed:
                self.stdout.write(f"Sent {tally.sent}, failed {tally.failed}.")
            end = time.monotonic() + interval
            while not stopping and time.monotonic() < end:
                time.sleep(0.1)
