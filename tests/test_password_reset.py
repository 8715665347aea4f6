"""The password-reset form is rate-limited: it sends email, so it must not be a mail cannon."""

import datetime
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.db.models import F
from django.urls import reverse

from config.auth import RESET_LIMIT_PER_CLIENT, RESET_LIMIT_PER_EMAIL, RESET_WINDOW_SECONDS
from config.models import PasswordResetRequest
from tests.factories import UserFactory
from tests.reliability.servers import database_url


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


def age_requests(minutes: int) -> None:
    PasswordResetRequest.objects.update(at=F("at") - datetime.timedelta(minutes=minutes))


def test_the_limit_lifts_an_hour_after_the_requests_and_refusals_do_not_extend_it(client, db):
    assert RESET_WINDOW_SECONDS == 3600
    for _ in range(RESET_LIMIT_PER_EMAIL):
        assert ask(client, "ada@example.com").status_code == 302
    age_requests(59)
    for _ in range(5):
        assert ask(client, "ada@example.com").status_code == 429
    age_requests(2)

    assert ask(client, "ada@example.com").status_code == 302
    # The requests of an hour ago are pruned; the refused ones left nothing behind.
    assert PasswordResetRequest.objects.count() == 2


# Run in a separate process: its own memory, its own database connection, like another
# gunicorn worker or instance. It waits for a common start time, then asks in a burst.
ASK_FROM_ANOTHER_PROCESS = """
import os, sys, time
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()  # mail to memory, the test client's host allowed
email, address, times, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
client = Client()
time.sleep(max(0.0, start - time.time()))
for _ in range(times):
    response = client.post("/accounts/password_reset/", {"email": email}, REMOTE_ADDR=address)
    print(response.status_code)
"""


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="other processes need the test PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_processes_share_the_count_so_more_workers_do_not_raise_the_limit():
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DEBUG": "1",
        "SECRET_KEY": settings.SECRET_KEY,
        "DATABASE_URL": database_url(),
    }
    start = time.time() + 5  # after both processes have loaded Django
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                ASK_FROM_ANOTHER_PROCESS,
                "ada@example.com",
                address,
                str(RESET_LIMIT_PER_EMAIL),
                str(start),
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for address in ("203.0.113.7", "198.51.100.9")
    ]
    answers = []
    for worker in workers:
        out, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err
        answers += out.split()

    assert len(answers) == 2 * RESET_LIMIT_PER_EMAIL  # each process asked for a whole limit
    # Counted per process, each would have been let through RESET_LIMIT_PER_EMAIL times.
    assert 1 <= answers.count("302") <= RESET_LIMIT_PER_EMAIL
    assert answers.count("302") + answers.count("429") == len(answers)
