"""The outbox against an HTTP receiver on loopback: what is sent, retries, backoff, routing."""

import datetime
import hashlib
import hmac
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from improvements.models import Column, Improvement
from retros import outbox
from retros.models import (
    ApiToken,
    ChatWebhook,
    Delivery,
    Finding,
    OutboxMessage,
    OutgoingWebhook,
)
from retros.tasks import remind
from tests.factories import (
    DutyWeekFactory,
    FindingFactory,
    ImprovementFactory,
    RetrospectiveFactory,
    UnitFactory,
    UserFactory,
)

SECRET = "test-signing-secret"


@pytest.fixture(autouse=True)
def outbox_settings(settings):
    settings.SITE_URL = "https://wallbreaker.example"
    settings.WEBHOOK_SIGNING_SECRET = SECRET
    settings.OUTBOX_TIMEOUT_SECONDS = 0.5
    settings.OUTBOX_RETRY_BASE_SECONDS = 10
    settings.OUTBOX_MAX_ATTEMPTS = 4
    settings.OUTBOX_ALLOW_INTERNAL_URLS = True  # the receiver listens on loopback


def make_due() -> None:
    Delivery.objects.filter(sent_at__isnull=True).update(next_attempt_at=timezone.now())


def test_a_card_reaching_done_is_posted_to_slack_and_teams_with_a_link(
    owner_client, owner, unit, columns, receiver
):
    ChatWebhook.objects.create(url=receiver.url("/slack"), kind="slack")
    ChatWebhook.objects.create(url=receiver.url("/teams"), kind="teams", unit=unit)
    card = ImprovementFactory(title="Automate smoke tests", unit=unit, column=columns["Next"])
    response = owner_client.post(
        f"/board/cards/{card.pk}/move/", {"column": columns["Done"].pk, "place": "top"}
    )
    assert response.status_code == 302
    assert receiver.requests == []  # nothing is sent by the request itself

    tally = outbox.drain()

    assert (tally.sent, tally.failed) == (2, 0)
    link = f"https://wallbreaker.example{card.get_absolute_url()}"
    by_path = {request.path: request for request in receiver.requests}
    assert by_path["/slack"].json == {"text": f"Done: “Automate smoke tests” by owner.\n{link}"}
    teams = by_path["/teams"].json
    assert teams["type"] == "message"
    content = teams["attachments"][0]["content"]
    assert content["type"] == "AdaptiveCard"
    assert content["body"][0]["text"] == "Done: “Automate smoke tests” by owner."
    assert content["actions"][0]["url"] == link
    ids = {request.headers["X-Wallbreaker-Delivery"] for request in receiver.requests}
    assert ids == {str(pk) for pk in Delivery.objects.values_list("pk", flat=True)}
    assert Delivery.objects.filter(sent_at__isnull=False).count() == 2
    assert outbox.drain().sent == 0  # nothing twice


def test_a_unit_channel_hears_only_its_unit_and_the_organisation_hears_all(
    unit, columns, receiver, owner
):
    other = UnitFactory(name="Search")
    ChatWebhook.objects.create(url=receiver.url("/org"))
    ChatWebhook.objects.create(url=receiver.url("/payments"), unit=unit)
    ChatWebhook.objects.create(url=receiver.url("/search"), unit=other)
    ChatWebhook.objects.create(url=receiver.url("/paused"), is_active=False)
    ours = ImprovementFactory(title="Ours", unit=unit, column=columns["Next"])
    theirs = ImprovementFactory(title="Theirs", unit=other, column=columns["Next"])
    ours.move_to(columns["Done"], actor=owner)
    theirs.move_to(columns["Done"], actor=owner)
    outbox.drain()
    heard = sorted((r.path, r.json["text"].split("”")[0]) for r in receiver.requests)
    assert heard == [
        ("/org", "Done: “Ours"),
        ("/org", "Done: “Theirs"),
        ("/payments", "Done: “Ours"),
        ("/search", "Done: “Theirs"),
    ]


def test_outgoing_webhooks_are_signed_over_timestamp_and_body(client, owner, unit, receiver):
    OutgoingWebhook.objects.create(name="Data lake", url=receiver.url())
    OutgoingWebhook.objects.create(
        name="Only verdicts", url=receiver.url("/v"), topics="card.verdict"
    )
    _token, key = ApiToken.issue("Sync", user=owner, scopes=["cards:write"])
    response = client.post(
        "/api/cards",
        {"title": "Drop the changelog", "external_link": "https://linear.app/a/issue/ENG-9/x"},
        "application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 201
    outbox.drain()
    [request] = receiver.requests
    assert request.path == "/hook"
    timestamp = request.headers["X-Wallbreaker-Timestamp"]
    expected = hmac.new(
        SECRET.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256
    ).hexdigest()
    assert request.headers["X-Wallbreaker-Signature"] == f"sha256={expected}"
    assert abs(int(timestamp) - timezone.now().timestamp()) < 60
    assert request.headers["X-Wallbreaker-Topic"] == "card.created"
    body = request.json
    assert body["topic"] == "card.created"
    assert body["data"]["card"]["title"] == "Drop the changelog"
    assert body["data"]["card"]["issue"] == {"tracker": "linear", "key": "ENG-9"}
    assert body["data"]["actor"] == "owner"
    assert body["id"] == str(OutboxMessage.objects.get(topic="card.created").pk)
    assert request.headers["X-Wallbreaker-Delivery"] == str(Delivery.objects.get().pk)


def test_a_move_and_a_verdict_reach_the_webhooks_that_want_them(
    owner_client, owner, unit, columns, receiver
):
    OutgoingWebhook.objects.create(name="All", url=receiver.url("/all"))
    card = ImprovementFactory(title="Cache the build", unit=unit, column=columns["Next"])
    card.move_to(columns["Done"], actor=owner)
    response = owner_client.post(f"/dashboard/effects/{card.pk}/verdict/", {"verdict": "confirmed"})
    assert response.status_code == 302
    outbox.drain()
    topics = sorted(r.json["topic"] for r in receiver.requests)
    assert topics == ["card.done", "card.moved", "card.verdict"]
    verdict = next(r.json for r in receiver.requests if r.json["topic"] == "card.verdict")
    assert verdict["data"]["card"]["effect_verdict"] == "confirmed"
    assert verdict["data"]["previous"] == "pending"


def test_an_unsigned_webhook_is_not_sent_but_kept(settings, unit, columns, receiver, owner):
    settings.WEBHOOK_SIGNING_SECRET = ""
    OutgoingWebhook.objects.create(name="All", url=receiver.url())
    ImprovementFactory(column=columns["Next"]).move_to(columns["Ideas"], actor=owner)
    tally = outbox.drain()
    assert tally.failed == 1 and receiver.requests == []
    assert Delivery.objects.get().last_error.startswith("WEBHOOK_SIGNING_SECRET is not set")
    settings.WEBHOOK_SIGNING_SECRET = SECRET
    make_due()
    assert outbox.drain().sent == 1


def test_a_500_is_retried_after_an_exponential_backoff(columns, receiver, owner):
    receiver.answer = lambda n: (500, 0) if n < 2 else (200, 0)
    ChatWebhook.objects.create(url=receiver.url())
    ImprovementFactory(column=columns["Next"]).move_to(columns["Done"], actor=owner)

    before = timezone.now()
    assert outbox.drain().failed == 1
    delivery = Delivery.objects.get()
    assert (delivery.attempts, delivery.last_status, delivery.sent_at) == (1, 500, None)
    wait = (delivery.next_attempt_at - before).total_seconds()
    assert 10 <= wait <= 12  # base · 2^0, plus up to 10 % jitter
    assert outbox.drain().sent == 0  # not due yet

    make_due()
    assert outbox.drain().failed == 1
    delivery.refresh_from_db()
    wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
    assert 19 <= wait <= 22  # base · 2^1

    make_due()
    assert outbox.drain().sent == 1
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status) == (3, 200)
    assert len({r.headers["X-Wallbreaker-Delivery"] for r in receiver.requests}) == 1
    assert [r.status for r in receiver.requests] == [500, 500, 200]


def test_a_timeout_is_retried(columns, receiver, owner):
    receiver.answer = lambda n: (200, 2.0) if n == 0 else (200, 0)
    ChatWebhook.objects.create(url=receiver.url())
    ImprovementFactory(column=columns["Next"]).move_to(columns["Done"], actor=owner)
    assert outbox.drain().failed == 1
    delivery = Delivery.objects.get()
    assert delivery.last_status is None and "timed out" in delivery.last_error
    make_due()
    assert outbox.drain().sent == 1
    # The receiver saw both, with one id: it answered too late, so it may drop the second.
    assert len(receiver.requests) == 2
    assert len({r.headers["X-Wallbreaker-Delivery"] for r in receiver.requests}) == 1


def test_a_refused_connection_is_retried_and_finally_given_up(columns, owner, receiver):
    url = receiver.url()
    receiver.close()  # nobody listens there any more
    ChatWebhook.objects.create(url=url)
    ImprovementFactory(column=columns["Next"]).move_to(columns["Done"], actor=owner)
    for _ in range(4):
        make_due()
        outbox.drain()
    delivery = Delivery.objects.get()
    assert delivery.attempts == 4 and delivery.gave_up_at is not None
    make_due()
    assert outbox.drain().sent + outbox.drain().failed == 0


def test_a_move_that_fails_leaves_no_message(columns, owner):
    ChatWebhook.objects.create(url="https://chat.example/hook")
    card = ImprovementFactory(column=columns["Next"])
    elsewhere = ImprovementFactory(column=columns["Ideas"])
    from improvements.models import MoveError

    with pytest.raises(MoveError):
        card.move_to(columns["Done"], after=elsewhere, actor=owner)
    assert not OutboxMessage.objects.exists()


def test_a_move_with_no_listener_writes_no_message(columns, owner, django_assert_num_queries):
    card = ImprovementFactory(column=columns["Next"])
    # lock, neighbours, update, event: as before (and the savepoint around them, in a test)
    with django_assert_num_queries(6):
        card.move_to(columns["Done"], actor=owner)
    assert not OutboxMessage.objects.exists()


def test_crossing_the_wip_limit_is_told_once(columns, owner, unit, receiver):
    ChatWebhook.objects.create(url=receiver.url())
    active = columns["In progress"]
    Column.objects.filter(pk=active.pk).update(wip_limit=1)
    cards = [ImprovementFactory(column=columns["Next"], unit=unit) for _ in range(3)]
    for card in cards:
        card.move_to(active, actor=owner)
    outbox.drain()
    texts = [r.json["text"] for r in receiver.requests]
    assert texts == [
        f"In progress is over its WIP limit: 2 cards for a limit of 1, since “{cards[1].title}”"
        " arrived.\nhttps://wallbreaker.example/board/"
    ]


def test_the_duty_handover_names_the_unit_qa_and_platform_once_a_week(unit, receiver):
    week = DutyWeekFactory(
        unit=unit,
        qa_person=UserFactory(username="tariq", first_name="Tariq", last_name=""),
        platform_person=UserFactory(username="uma", first_name="Uma", last_name=""),
    )
    ChatWebhook.objects.create(url=receiver.url())
    call_command("send_duty_handover")
    call_command("send_duty_handover")  # cron ran twice
    outbox.drain()
    [request] = receiver.requests
    assert request.json["text"] == (
        f"Payments is on deployment duty this week ({week.iso_label}); QA Tariq, platform Uma."
        "\nhttps://wallbreaker.example/rotation/"
    )


def test_the_retro_reminder_goes_to_chat_too(unit, receiver, mailoutbox):
    week = DutyWeekFactory(unit=unit)
    retro = RetrospectiveFactory(duty_week=week)
    ChatWebhook.objects.create(url=receiver.url(), unit=unit)
    remind(week)
    outbox.drain()
    [request] = receiver.requests
    assert request.json["text"] == (
        f"Reminder: Payments's retro for deployment week {week.iso_label} is not submitted yet."
        f"\nhttps://wallbreaker.example/retros/{retro.pk}/"
    )


def test_a_submitted_retro_posts_its_weekly_update(owner_client, owner, unit, receiver):
    week = DutyWeekFactory(unit=unit)
    retro = RetrospectiveFactory(duty_week=week, facilitator=owner)
    retro.attendees.add(owner)
    FindingFactory(retro=retro, kind=Finding.Kind.PAIN, text="The smoke test takes an hour")
    FindingFactory(retro=retro, kind=Finding.Kind.IDEA, text="Automate it")
    ChatWebhook.objects.create(url=receiver.url())
    response = owner_client.post(f"/retros/{retro.pk}/submit/", {"confirm_missing": "1"})
    assert response.status_code == 302
    outbox.drain()
    [request] = receiver.requests
    text = request.json["text"]
    assert text.startswith(f"Payments submitted the retro for deployment week {week.iso_label}.")
    assert "The smoke test takes an hour" in text  # the weekly update itself
    assert text.endswith(f"https://wallbreaker.example/updates/{week.iso_label}/")


def test_a_blocked_run_can_be_told(unit, receiver):
    ChatWebhook.objects.create(url=receiver.url(), unit=unit)
    for _check in range(2):
        outbox.enqueue(
            outbox.run_blocked(
                unit=unit,
                run="2026.11.4",
                step="Smoke test by hand",
                minutes=25,
                link="https://wallbreaker.example/runs/7/",
                key="run:7:step:3",
            )
        )
    outbox.drain()
    assert [r.json["text"] for r in receiver.requests] == [
        "Deployment run 2026.11.4 is blocked at “Smoke test by hand” for 25 minutes."
        "\nhttps://wallbreaker.example/runs/7/"
    ]


def test_messages_without_targets_are_marked_done_and_forgotten_later(columns, owner):
    ImprovementFactory(column=columns["Next"])
    from improvements.operations import create_improvement

    create_improvement(title="New", category=Improvement.objects.first().category, user=owner)
    assert outbox.drain().sent == 0
    message = OutboxMessage.objects.get()
    assert message.fanned_out_at is not None and not message.deliveries.exists()
    OutboxMessage.objects.update(fanned_out_at=timezone.now() - datetime.timedelta(days=31))
    assert outbox.forget_old() == 1


def test_the_worker_command_sends_what_is_due(columns, owner, receiver, capsys):
    ChatWebhook.objects.create(url=receiver.url())
    ImprovementFactory(column=columns["Next"]).move_to(columns["Done"], actor=owner)
    call_command("deliver_outbox", "--once")
    assert "Sent 1, failed 0" in capsys.readouterr().out
    assert len(receiver.requests) == 1


def test_the_body_is_the_same_on_every_attempt(columns, owner, receiver):
    receiver.answer = lambda n: (503, 0) if n == 0 else (200, 0)
    OutgoingWebhook.objects.create(name="All", url=receiver.url(), topics="card.moved")
    ImprovementFactory(column=columns["Next"]).move_to(columns["Ideas"], actor=owner)
    outbox.drain()
    make_due()
    outbox.drain()
    first, second = receiver.requests
    assert first.body == second.body
    assert json.loads(first.body)["topic"] == "card.moved"


def test_internal_addresses_are_refused_unless_allowed(settings, columns, owner, receiver):
    settings.OUTBOX_ALLOW_INTERNAL_URLS = False
    ChatWebhook.objects.create(url=receiver.url())
    ChatWebhook.objects.create(url="http://169.254.169.254/latest/meta-data/")
    ImprovementFactory(column=columns["Next"]).move_to(columns["Done"], actor=owner)
    assert outbox.drain().failed == 2
    assert receiver.requests == []
    errors = sorted(Delivery.objects.values_list("last_error", flat=True))
    assert errors[0].startswith("127.0.0.1 is an internal address (127.0.0.1)")
    assert errors[1].startswith("169.254.169.254 is an internal address")
    settings.OUTBOX_ALLOW_INTERNAL_URLS = True
    make_due()
    assert outbox.drain().sent == 1  # the loopback one; the other has nobody listening


def test_a_long_chat_message_is_cut_at_a_line_with_the_link_kept(unit, receiver):
    ChatWebhook.objects.create(url=receiver.url())
    lines = "\n".join(f"Line {n} of a very long weekly update" for n in range(500))
    outbox.enqueue(outbox.message("card.done", lines, link="https://wallbreaker.example/x/"))
    outbox.drain()
    text = receiver.requests[0].json["text"]
    assert len(text) <= outbox.CHAT_TEXT_LIMIT + 40
    assert text.endswith("… (more on the page)\nhttps://wallbreaker.example/x/")
    assert "Line 0 of" in text and "Line 499" not in text
