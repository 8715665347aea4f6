"""A bounded load generator: N threads loading the board and dragging cards over HTTP.

Bounded in time and in request count, and it only ever talks to the loopback address it
is given. Standard library only (threads and http.client), so it runs wherever bench runs.
"""

import http.client
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Client:
    """One logged-in browser: its cookies (session and CSRF) and the token to send back."""

    cookie: str
    csrf_token: str


@dataclass
class Board:
    """What every client believes the board looks like; updated by every successful move."""

    columns: list[int]
    card_column: dict[int, int]
    lock: threading.Lock = field(default_factory=threading.Lock)

    def pick_move(self, rng: random.Random) -> tuple[int, int, int | None]:
        """A card, the column to drop it in and the card to land after (None: the top)."""
        with self.lock:
            card = rng.choice(list(self.card_column))
            column = rng.choice(self.columns)
            neighbours = [c for c, col in self.card_column.items() if col == column and c != card]
        after = rng.choice(neighbours) if neighbours and rng.random() < 0.9 else None
        return card, column, after

    def moved(self, card: int, column: int) -> None:
        with self.lock:
            self.card_column[card] = column


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[str, dict[int, int]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, status: int, seconds: float) -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds * 1000)
            counts = self.statuses.setdefault(kind, {})
            counts[status] = counts.get(status, 0) + 1


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))  # ceil without math
    return ordered[int(rank) - 1]


def run(
    *,
    host: str,
    port: int,
    clients: list[Client],
    board: Board,
    board_path: str,
    move_path: Callable[[int], str],
    seconds: float,
    max_requests: int,
    board_share: float = 0.2,
    seed: int = 1,
) -> dict:
    """Drive the server with one thread per client; returns rates and latency percentiles."""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("The load generator only talks to the loopback interface.")
    tally = Tally()
    budget = threading.Semaphore(max_requests)
    deadline = time.monotonic() + seconds

    def worker(index: int, client: Client) -> None:
        rng = random.Random(seed * 1000 + index)  # noqa: S311 - load pattern, not security
        connection = http.client.HTTPConnection(host, port, timeout=60)
        base_headers = {"Cookie": client.cookie, "Host": f"{host}:{port}"}
        while time.monotonic() < deadline and budget.acquire(blocking=False):
            if rng.random() < board_share:
                kind, method, path, body = "board", "GET", board_path, None
                headers = dict(base_headers)
            else:
                card, column, after = board.pick_move(rng)
                kind, method = "move", "POST"
                path = move_path(card)
                fields = {"column": str(column)}
                if after is None:
                    fields["place"] = "top"
                else:
                    fields["after"] = str(after)
                body = "&".join(f"{k}={v}" for k, v in fields.items())
                headers = {
                    **base_headers,
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-CSRFToken": client.csrf_token,
                    "HX-Request": "true",
                }
            started = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                with tally.lock:
                    tally.errors.append(f"{kind}: {type(error).__name__}: {error}")
                status = 0
            tally.add(kind, status, time.perf_counter() - started)
            if kind == "move" and status == 200:
                board.moved(card, column)

    threads = [
        threading.Thread(target=worker, args=(index, client), daemon=True)
        for index, client in enumerate(clients)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    elapsed = time.monotonic() - started

    result: dict = {
        "clients": len(clients),
        "seconds": round(elapsed, 1),
        "requests": sum(len(v) for v in tally.latencies.values()),
        "exceptions": len(tally.errors),
        "first_exceptions": tally.errors[:5],
        "kinds": {},
    }
    for kind, latencies in sorted(tally.latencies.items()):
        statuses = tally.statuses[kind]
        result["kinds"][kind] = {
            "requests": len(latencies),
            "per_second": round(len(latencies) / elapsed, 1),
            "statuses": {str(status): count for status, count in sorted(statuses.items())},
            "server_errors": sum(n for s, n in statuses.items() if s >= 500 or s == 0),
            "p50_ms": round(percentile(latencies, 0.50), 1),
            "p95_ms": round(percentile(latencies, 0.95), 1),
            "p99_ms": round(percentile(latencies, 0.99), 1),
            "max_ms": round(max(latencies), 1),
        }
    result["per_second"] = round(result["requests"] / elapsed, 1)
    return result
