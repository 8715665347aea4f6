"""The outbox: chat messages and signed webhooks, written with the change, sent by a worker.

A change writes an OutboxMessage in its own transaction (`enqueue`), so a message exists if
and only if the change committed, and sending never slows or breaks the request. The worker
(`manage.py deliver_outbox`) then

1. fans each new message out to the targets that want it: one Delivery per chat channel (the
   unit's and the organisation's) or outgoing webhook, with the exact body to post;
2. claims due deliveries (SELECT … FOR UPDATE SKIP LOCKED, then pushes their next attempt a
   lease ahead, so concurrent workers never take the same one and a dead worker's claims come
   back when the lease runs out), posts each, and records the answer at once: sent on 2xx,
   otherwise tried again after an exponential backoff.

Delivery is at least once. The only way a receiver sees a message twice is a worker dying
after the receiver answered and before the answer was recorded; every post carries the
delivery's id (X-Wallbreaker-Delivery) so a receiver can drop the repeat.
"""

import datetime
import hashlib
import hmac
import ipaddress
import json
import logging
import random
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import (
    ChatWebhook,
    Delivery,
    DeploymentRun,
    OutboxMessage,
    OutgoingWebhook,
    RunStepInterval,
    Unit,
)

logger = logging.getLogger(__name__)

CHAT_TOPICS = frozenset(
    {
        "duty.handover",
        "retro.reminder",
        "retro.submitted",
        "card.done",
        "column.over_wip",
        "run.blocked",
    }
)
WEBHOOK_TOPICS = frozenset(OutgoingWebhook.Topic.values)
CHAT_TEXT_LIMIT = 4000

# Fuller chat text for a topic, built when the message is fanned out: the improvements app
# registers the weekly update for "retro.submitted" (retros cannot import it).
EXPANDERS: dict[str, Callable[[OutboxMessage], str]] = {}
# The page a topic's message links to when another app owns it, from the message's data: the
# improvements app registers its weekly update for "retro.submitted" (retros cannot name its
# URL). A topic without one links to its retros page.
LINKS: dict[str, Callable[[dict], str]] = {}


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def message(
    topic: str,
    text: str,
    *,
    link: str = "",
    unit: Unit | int | None = None,
    data: dict | None = None,
    dedupe_key: str | None = None,
) -> OutboxMessage:
    unit_id = unit.pk if isinstance(unit, Unit) else unit
    return OutboxMessage(
        topic=topic,
        text=text,
        link=link,
        unit_id=unit_id,
        data=data or {},
        dedupe_key=dedupe_key,
    )


def enqueue(*messages: OutboxMessage) -> None:
    """Store messages in the caller's transaction, in one query.

    A message whose dedupe_key was stored before is skipped, so a repeated cron run or task
    tells nobody twice.
    """
    if messages:
        OutboxMessage.objects.bulk_create(messages, ignore_conflicts=True)


def any_targets() -> bool:
    return (
        ChatWebhook.objects.filter(is_active=True).exists()
        or OutgoingWebhook.objects.filter(is_active=True).exists()
    )


# The chat messages the issue names. Each links back to its page.


def duty_handover(week) -> OutboxMessage:
    """Monday's line: who is on duty this week."""
    helpers = []
    if week.qa_person:
        helpers.append(f"QA {_name(week.qa_person)}")
    if week.platform_person:
        helpers.append(f"platform {_name(week.platform_person)}")
    text = f"{week.unit} is on deployment duty this week ({week.iso_label})"
    text += "; " + ", ".join(helpers) + "." if helpers else "."
    return message(
        "duty.handover",
        text,
        link=absolute("/rotation/"),
        unit=week.unit_id,
        dedupe_key=f"duty.handover:{week.iso_label}",
    )


def retro_reminder(week, retro) -> OutboxMessage:
    text = (
        f"Reminder: {week.unit}'s retro for deployment week {week.iso_label} is not submitted yet."
    )
    link = absolute(retro.get_absolute_url() if retro else "/retros/")
    return message(
        "retro.reminder",
        text,
        link=link,
        unit=week.unit_id,
        dedupe_key=f"retro.reminder:{week.iso_label}",
    )


def retro_submitted(retro) -> OutboxMessage:
    """The short line; the worker adds the week's update (improvements registers it)."""
    week = retro.duty_week
    text = f"{week.unit} submitted the retro for deployment week {week.iso_label}."
    data = {"week": week.iso_label, "retro": retro.pk}
    page = LINKS.get("retro.submitted")
    return message(
        "retro.submitted",
        text,
        link=absolute(page(data) if page else retro.get_absolute_url()),
        unit=week.unit_id,
        data=data,
        dedupe_key=f"retro.submitted:{retro.pk}",
    )


def run_blocked(
    *,
    unit: Unit | int | None,
    run: str,
    step: str,
    minutes: int,
    link: str,
    key: str,
    cause: str = "",
) -> OutboxMessage:
    """For deployment runs: a step blocked longer than RUN_BLOCKED_ALERT_MINUTES.

    `alert_blocked_runs` (the worker, every cycle) enqueues it when a blocked step passes the
    threshold; `key` names the run step's block (e.g. "run:12:step:3:interval:7") so repeated
    checks tell the channel once.
    """
    text = f"Deployment run {run} is blocked at “{step}” for {minutes} minutes."
    if cause:
        text += f" Cause: {cause}"
    return message("run.blocked", text, link=link, unit=unit, dedupe_key=f"run.blocked:{key}")


def alert_blocked_runs(now: datetime.datetime | None = None) -> int:
    """Enqueue run.blocked for each running run's step blocked past RUN_BLOCKED_ALERT_MINUTES.

    Called by the worker every cycle, so no cron is needed. Reads only the open blocked
    intervals (the partial index of run_step_one_open_interval holds the open ones), and
    nothing at all while no chat channel is active. The key holds the interval's id: checking
    again tells nobody twice, and the same step blocked again after an unblock is a new alert.
    Returns how many blocked steps were past the threshold.
    """
    if not ChatWebhook.objects.filter(is_active=True).exists():
        return 0
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(minutes=settings.RUN_BLOCKED_ALERT_MINUTES)
    blocked = list(
        RunStepInterval.objects.filter(
            kind=RunStepInterval.Kind.BLOCKED,
            ended_at__isnull=True,
            started_at__lte=cutoff,
            step__run__state=DeploymentRun.State.RUNNING,
        )
        .select_related("step__run__duty_week")
        .order_by("started_at", "pk")
    )
    messages = []
    for interval in blocked:
        step, run = interval.step, interval.step.run
        label = " ".join(filter(None, [run.get_environment_display(), run.version]))
        messages.append(
            run_blocked(
                unit=run.duty_week.unit_id if run.duty_week else None,
                run=f"#{run.pk} ({label})",
                step=step.title,
                minutes=int((now - interval.started_at).total_seconds() // 60),
                link=absolute(run.get_absolute_url()),
                key=f"run:{run.pk}:step:{step.pk}:interval:{interval.pk}",
                cause=step.block_cause,
            )
        )
    enqueue(*messages)
    return len(messages)


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


# Bodies, as each kind of receiver wants them.


def slack_body(text: str, link: str) -> dict:
    """Slack, Mattermost and Rocket.Chat incoming webhooks all take {"text": ...}; a bare URL
    becomes a link in each of them."""
    return {"text": f"{text}\n{link}" if link else text}


def teams_body(text: str, link: str) -> dict:
    """Teams Workflows ("When a Teams webhook request is received") take an Adaptive Card."""
    card: dict = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [{"type": "TextBlock", "text": text, "wrap": True}],
    }
    if link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open in Wallbreaker", "url": link}]
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }


def webhook_body(message: OutboxMessage) -> dict:
    return {
        "id": str(message.id),
        "topic": message.topic,
        "created_at": message.created_at.isoformat(),
        "text": message.text,
        "link": message.link,
        "data": message.data,
    }


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", as the X-Wallbreaker-Signature header sends it."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


# The worker.


def fan_out(limit: int = 200) -> int:
    """Turn new messages into one delivery per target; returns how many messages."""
    with transaction.atomic():
        messages = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(fanned_out_at__isnull=True)
            .order_by("created_at")[:limit]
        )
        if not messages:
            return 0
        chats = list(ChatWebhook.objects.filter(is_active=True))
        hooks = list(OutgoingWebhook.objects.filter(is_active=True))
        deliveries = []
        for outgoing in messages:
            deliveries += _deliveries_of(outgoing, chats, hooks)
        Delivery.objects.bulk_create(deliveries)
        OutboxMessage.objects.filter(pk__in=[m.pk for m in messages]).update(
            fanned_out_at=timezone.now()
        )
    return len(messages)


def _deliveries_of(outgoing: OutboxMessage, chats, hooks) -> list[Delivery]:
    deliveries = []
    if outgoing.topic in CHAT_TOPICS:
        text = outgoing.text
        if outgoing.topic in EXPANDERS:
            try:
                text = EXPANDERS[outgoing.topic](outgoing)
            except Exception:  # a broken expander must not hold up the message itself
                logger.exception("Expanding %s failed; sending the short text", outgoing.pk)
        if len(text) > CHAT_TEXT_LIMIT:
            # Chat tools cap a message (Teams near 28 KB); the link has the rest.
            text = text[: CHAT_TEXT_LIMIT - 40].rsplit("\n", 1)[0] + "\n… (more on the page)"
        for chat in chats:
            if chat.unit_id is not None and chat.unit_id != outgoing.unit_id:
                continue
            make = teams_body if chat.kind == ChatWebhook.Kind.TEAMS else slack_body
            deliveries.append(
                Delivery(
                    message=outgoing,
                    chat_webhook=chat,
                    url=chat.url,
                    body=json.dumps(make(text, outgoing.link)),
                )
            )
    if outgoing.topic in WEBHOOK_TOPICS:
        body = json.dumps(webhook_body(outgoing))
        for hook in hooks:
            if outgoing.topic in hook.topics.split():
                deliveries.append(
                    Delivery(message=outgoing, outgoing_webhook=hook, url=hook.url, body=body)
                )
    return deliveries


def claim(limit: int) -> list[Delivery]:
    """Take up to `limit` due deliveries for this worker until the lease runs out."""
    now = timezone.now()
    lease = datetime.timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    with transaction.atomic():
        due = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(sent_at__isnull=True, gave_up_at__isnull=True, next_attempt_at__lte=now)
            .select_related("message")
            .order_by("next_attempt_at")[:limit]
        )
        if due:
            Delivery.objects.filter(pk__in=[d.pk for d in due]).update(
                next_attempt_at=now + lease, attempts=F("attempts") + 1
            )
    for delivery in due:
        delivery.attempts += 1
    return due


@dataclass
class Answer:
    status: int | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post(delivery: Delivery) -> Answer:
    """One attempt: POST the body with its ids (and signature, for outgoing webhooks)."""
    body = delivery.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Wallbreaker-Outbox/1",
        "X-Wallbreaker-Delivery": str(delivery.pk),
        "X-Wallbreaker-Topic": delivery.message.topic,
    }
    if delivery.outgoing_webhook_id is not None:
        secret = settings.WEBHOOK_SIGNING_SECRET
        if not secret:
            return Answer(None, "WEBHOOK_SIGNING_SECRET is not set; not sending unsigned.")
        timestamp = str(int(time.time()))
        headers["X-Wallbreaker-Timestamp"] = timestamp
        headers["X-Wallbreaker-Signature"] = signature(secret, timestamp, body)
    if not delivery.url.startswith(("http://", "https://")):
        return Answer(None, "Only http and https URLs are posted to.")
    if refusal := internal_address(delivery.url):
        return Answer(None, refusal)
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked just above
        delivery.url, data=body, headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(  # noqa: S310
            request, timeout=settings.OUTBOX_TIMEOUT_SECONDS
        ) as answer:
            return Answer(answer.status)
    except urllib.error.HTTPError as error:
        return Answer(error.code, f"HTTP {error.code}")
    except (OSError, ValueError) as error:  # refused, timed out, DNS, a malformed URL
        return Answer(None, str(error)[:500] or error.__class__.__name__)


def internal_address(url: str) -> str:
    """Why `url` may not be posted to, or "": unless OUTBOX_ALLOW_INTERNAL_URLS is on, no
    loopback, private, link-local or reserved address, so a webhook URL typed in by a unit
    member cannot make the worker probe the company's own network."""
    if settings.OUTBOX_ALLOW_INTERNAL_URLS:
        return ""
    host = urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError):
        return ""  # unresolvable: the post itself fails and is retried
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global or ip.is_multicast:
            return f"{host} is an internal address ({ip}); set OUTBOX_ALLOW_INTERNAL_URLS to allow."
    return ""


def backoff(attempts: int) -> datetime.timedelta:
    """base · 2^(attempts-1), at most the maximum, with up to 10 % jitter."""
    seconds = min(
        settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** min(attempts - 1, 30),
        settings.OUTBOX_RETRY_MAX_SECONDS,
    )
    return datetime.timedelta(seconds=seconds * (1 + random.random() / 10))  # noqa: S311


def record(delivery: Delivery, answer: Answer) -> None:
    now = timezone.now()
    fields: dict = {"last_status": answer.status, "last_error": answer.error}
    if answer.ok:
        fields["sent_at"] = now
    elif delivery.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        fields["gave_up_at"] = now
        logger.error("Gave up on delivery %s after %s attempts", delivery.pk, delivery.attempts)
    else:
        fields["next_attempt_at"] = now + backoff(delivery.attempts)
    Delivery.objects.filter(pk=delivery.pk).update(**fields)


@dataclass
class Tally:
    sent: int = 0
    failed: int = 0

    def __iadd__(self, other: "Tally") -> "Tally":
        self.sent += other.sent
        self.failed += other.failed
        return self


def deliver_due(batch: int = 10, stop: Callable[[], bool] = lambda: False) -> Tally:
    """One round: fan out new messages, then send the due deliveries one by one."""
    fan_out()
    tally = Tally()
    for delivery in claim(batch):
        if stop():
            # Not attempted: make it due again now rather than when the lease runs out.
            Delivery.objects.filter(pk=delivery.pk).update(
                next_attempt_at=timezone.now(), attempts=F("attempts") - 1
            )
            continue
        answer = post(delivery)
        record(delivery, answer)
        if answer.ok:
            tally.sent += 1
        else:
            tally.failed += 1
    return tally


def pending() -> int:
    return Delivery.objects.filter(sent_at__isnull=True, gave_up_at__isnull=True).count()


def drain(batch: int = 10, stop: Callable[[], bool] = lambda: False) -> Tally:
    """Send until nothing is due right now."""
    total = Tally()
    while not stop():
        tally = deliver_due(batch, stop)
        total += tally
        if tally.sent + tally.failed == 0:
            break
    return total


def forget_old(days: int = 30) -> int:
    """Delete messages whose deliveries all finished more than `days` ago."""
    cutoff = timezone.now() - datetime.timedelta(days=days)
    open_deliveries = Delivery.objects.filter(
        Q(sent_at__isnull=True, gave_up_at__isnull=True) | Q(sent_at__gte=cutoff)
    )
    deleted, _ = (
        OutboxMessage.objects.filter(fanned_out_at__lt=cutoff)
        .exclude(pk__in=open_deliveries.values("message_id"))
        .delete()
    )
    return deleted
