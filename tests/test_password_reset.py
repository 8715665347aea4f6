"""The password-reset form is rate-limited: it sends email, so it must not be a mail cannon."""

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from config.auth import RESET_LIMIT_PER_CLIENT, RESET_LIMIT_PER_EMAIL
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def fresh_counters():
    cache.clear()
    yield
    cache.clear()


def ask(client, email: str, address: str = "203.0.113.7"):
    return client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=address)


def test_an_address_gets_a_few_resets_an_hour_then_a_429(client, db):
    UserFactory(username="ada", email="ada@example.com")
    for _ in range(RESET_LIMIT_PER_EMAIL):
        assert ask(client, "ada@example.com").status_code == 302
    sent = len(mail.outbox)

    response = ask(client, "ADA@example.com ", address="198.51.100.9")

    assert response.status_code == 429
    assert "Too many reset requests" in response.content.decode()
    assert len(mail.outbox) == sent == RESET_LIMIT_PER_EMAIL


def test_one_client_cannot_ask_for_many_addresses(client, db):
    for n in range(RESET_LIMIT_PER_CLIENT):
        assert ask(client, f"person{n}@example.com").status_code == 302
    assert ask(client, "one-more@example.com").status_code == 429
    assert ask(client, "one-more@example.com", address="198.51.100.9").status_code == 302


def test_the_limit_says_nothing_about_who_has_an_account(client, db):
    UserFactory(username="ada", email="ada@example.com")
    answers = []
    for email in ("ada@example.com", "nobody@example.com"):
        for n in range(RESET_LIMIT_PER_EMAIL + 1):
            answers.append((email, ask(client, email, address=f"192.0.2.{n}").status_code))
    assert [status for _, status in answers[:4]] == [status for _, status in answers[4:]]
