"""Load and faults against a real server: gunicorn (2 workers) on the test PostgreSQL database.

Twenty clients move cards and add findings for a bounded time on loopback. Afterwards every
card exists exactly once with distinct positions, every acknowledged move wrote one event,
and every acknowledged finding is stored. A second run restarts PostgreSQL and kills a
worker in the middle: requests fail cleanly (503 or a dropped connection, never a 500) and
the app recovers without being restarted.
"""

import http.client
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from improvements.models import Column, Event, Improvement
from retros.models import Finding
from tests.factories import (
    DutyWeekFactory,
    ImprovementFactory,
    RetrospectiveFactory,
    UnitFactory,
    UserFactory,
)
from tests.reliability.servers import database_url, free_port, restart_postgres, start_gunicorn

ROOT = Path(settings.BASE_DIR)
CLIENTS = 20
LOAD_SECONDS = float(os.environ.get("LOAD_SECONDS", "60"))
FAULT_SECONDS = float(os.environ.get("FAULT_SECONDS", "30"))
MAX_REQUESTS_PER_CLIENT = 20_000

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="load tests run against PostgreSQL"
    ),
]


@pytest.fixture
def server(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DEBUG": "0",
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url(),
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "STATIC_ROOT": str(tmp_path / "static"),
        "CONN_MAX_AGE": "60",
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    port = free_port()
    log = open(tmp_path / "gunicorn.log", "w")  # noqa: SIM115 - closed below
    process = start_gunicorn(port, env, log, 2, "--timeout", "30", "--graceful-timeout", "5")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            probe.request("GET", "/healthz")
            if probe.getresponse().status == 200:
                break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("gunicorn did not come up:\n" + (tmp_path / "gunicorn.log").read_text())
    yield {"port": port, "process": process, "log": tmp_path / "gunicorn.log"}
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=20)
    log.close()


@pytest.fixture
def world(server):
    """A unit on duty with twenty members, a draft retro, and 60 cards over four columns."""
    people = [UserFactory(username=f"loader{n}") for n in range(CLIENTS)]
    unit = UnitFactory(members=people)
    retro = RetrospectiveFactory(duty_week=DutyWeekFactory(unit=unit))
    columns = list(Column.objects.order_by("position"))
    cards = [ImprovementFactory(title=f"Card {n}", column=columns[n % 4]) for n in range(60)]
    sessions = []
    for person in people:
        client = Client()
        client.force_login(person)
        sessions.append(client.cookies["sessionid"].value)
    return {"retro": retro, "columns": columns, "cards": cards, "sessions": sessions}


class LoadClient(threading.Thread):
    """One simulated person dragging cards and typing findings, as fast as the server lets them."""

    def __init__(self, number: int, port: int, session: str, world: dict, deadline: float):
        super().__init__(daemon=True)
        self.number, self.port, self.deadline = number, port, deadline
        self.world = world
        self.token = secrets.token_hex(16)
        self.cookie = f"sessionid={session}; csrftoken={self.token}"
        self.random = random.Random(number)  # noqa: S311 - test traffic
        self.results: list[tuple[float, str, int | str, float, str]] = []

    def request(self, method: str, path: str, body: dict | None = None) -> int | str:
        headers = {"Cookie": self.cookie, "X-CSRFToken": self.token, "HX-Request": "true"}
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            response.read()
            conn.close()
            return response.status
        except OSError as error:
            return type(error).__name__

    def run(self) -> None:
        cards, columns = self.world["cards"], self.world["columns"]
        finding_url = reverse("retros:finding_add", args=[self.world["retro"].pk])
        for count in range(MAX_REQUESTS_PER_CLIENT):
            if time.monotonic() >= self.deadline:
                break
            roll = self.random.random()
            started = time.monotonic()
            if roll < 0.7:
                card = self.random.choice(cards)
                body = {"column": self.random.choice(columns).pk}
                if self.random.random() < 0.3:
                    body["after"] = self.random.choice(cards).pk  # may be stale: a clean 409
                else:
                    body["place"] = self.random.choice(["top", "bottom"])
                action, detail = "move", str(card.pk)
                status = self.request("POST", reverse("board:card_move", args=[card.pk]), body)
            elif roll < 0.9:
                text = f"load finding {self.number}-{count}"
                action, detail = "finding", text
                status = self.request("POST", finding_url, {"kind": "pain", "text": text})
            else:
                action, detail = "board", ""
                status = self.request("GET", reverse("board:board"))
            self.results.append((started, action, status, time.monotonic() - started, detail))


def run_load(server: dict, world: dict, seconds: float, faults=None) -> list:
    start = time.monotonic()
    clients = [
        LoadClient(n, server["port"], world["sessions"][n], world, start + seconds)
        for n in range(CLIENTS)
    ]
    for client in clients:
        client.start()
    if faults:
        faults(start)
    for client in clients:
        client.join(timeout=seconds + 60)
    return [row for client in clients for row in client.results]


def summary(results: list, seconds: float) -> str:
    statuses = Counter(str(status) for _, _, status, _, _ in results)
    latencies = sorted(duration for _, _, _, duration, _ in results)
    p95 = latencies[int(len(latencies) * 0.95) - 1] if latencies else 0
    return (
        f"{len(results)} requests in {seconds:.0f} s ({len(results) / seconds:.0f}/s), "
        f"median {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"statuses {dict(statuses)}"
    )


def assert_board_consistent(world: dict) -> None:
    connection.close()  # the server may have restarted under us
    ids = sorted(Improvement.objects.values_list("pk", flat=True))
    assert ids == sorted(card.pk for card in world["cards"]), "a card was lost or duplicated"
    places = Counter(Improvement.objects.values_list("column_id", "position"))
    assert max(places.values()) == 1, "two cards share a position"


def test_twenty_clients_moving_cards_and_adding_findings_lose_nothing(server, world):
    results = run_load(server, world, LOAD_SECONDS)
    print("\nload:", summary(results, LOAD_SECONDS))
    errors = [row for row in results if not isinstance(row[2], int) or row[2] >= 500]
    assert not errors, (
        f"{len(errors)} errors, first: {errors[:3]}\n" + server["log"].read_text()[-3000:]
    )
    moves = [row for row in results if row[1] == "move"]
    accepted_moves = [row for row in moves if row[2] == 200]
    assert {row[2] for row in moves} <= {200, 409}, Counter(row[2] for row in moves)
    assert len(accepted_moves) >= 20, "too little load to prove anything"
    assert_board_consistent(world)
    assert Event.objects.filter(kind=Event.Kind.MOVED).count() == len(accepted_moves)
    acknowledged = [row[4] for row in results if row[1] == "finding" and row[2] in (200, 302)]
    stored = Counter(Finding.objects.values_list("text", flat=True))
    assert len(acknowledged) >= 5, "too little load to prove anything"
    assert all(stored[text] == 1 for text in acknowledged), "an acknowledged finding is missing"
    assert sum(stored.values()) == len(acknowledged)


@pytest.mark.skipif(not os.environ.get("PG_DATA"), reason="needs the server of .ci/with-postgres")
def test_a_database_restart_and_a_killed_worker_fail_cleanly_and_recover(server, world):
    timeline = {}

    def faults(start: float) -> None:
        time.sleep(FAULT_SECONDS * 0.25)
        timeline["restart"] = time.monotonic()
        restart_postgres()
        timeline["restarted"] = time.monotonic()
        time.sleep(FAULT_SECONDS * 0.15)
        workers = subprocess.run(
            ["pgrep", "-P", str(server["process"].pid)], capture_output=True, text=True
        ).stdout.split()
        timeline["kill"] = time.monotonic()
        os.kill(int(workers[0]), signal.SIGKILL)

    results = run_load(server, world, FAULT_SECONDS, faults)
    connection.close()  # ours died with the restart; the next query reconnects
    print("\nfaults:", summary(results, FAULT_SECONDS), timeline)
    statuses = Counter(row[2] for row in results)
    assert 500 not in statuses, "a lost database must answer 503, not 500"
    failures = [row for row in results if not isinstance(row[2], int) or row[2] >= 500]
    # A request fails only if it was in flight during a fault (answered after it began).
    assert all(
        timeline["restart"] <= row[0] + row[3] <= timeline["kill"] + 10 for row in failures
    ), "requests failed outside the fault windows"
    recovered = [row for row in results if row[0] > timeline["kill"] + 10]
    assert recovered and all(isinstance(row[2], int) and row[2] < 500 for row in recovered)

    assert_board_consistent(world)
    accepted_moves = sum(1 for row in results if row[1] == "move" and row[2] == 200)
    moved_events = Event.objects.filter(kind=Event.Kind.MOVED).count()
    # A move whose answer was lost with its worker may still have committed, never half.
    assert accepted_moves <= moved_events <= accepted_moves + len(failures)
    stored = Counter(Finding.objects.values_list("text", flat=True))
    acknowledged = [row[4] for row in results if row[1] == "finding" and row[2] in (200, 302)]
    assert all(stored[text] == 1 for text in acknowledged)
