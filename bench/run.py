"""`make bench`: measure Wallbreaker on ten years of data against its performance targets.

The targets, why each is what it is, and the last run's figures are in docs/performance.md; each
Target below names its section there (tests/test_docs.py checks that every figure is listed).

Runs against the PostgreSQL server in DATABASE_URL (make bench starts a throwaway one):
migrates, seeds with seed_scale, times every page in-process with Django's test client
(server time, SQL queries, peak Python memory), then serves the app with gunicorn on
loopback and drives it with 20 concurrent clients. Prints one line per figure with
PASS/MISS against its target and writes everything to bench/results.json.
"""

import argparse
import datetime
import html
import html.parser
import json
import os
import platform
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# In-process figures run with production settings; gunicorn gets the same environment.
SERVER_ENV = {
    "DEBUG": "0",
    "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "SECURE_HSTS_SECONDS": "0",
    "SECURE_HSTS_PRELOAD": "0",
    "LOG_LEVEL": "ERROR",
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=float, default=10, help="years of history to seed (10)")
    parser.add_argument("--scale", type=float, default=1.0, help="seed_scale --scale (1)")
    parser.add_argument("--seed", type=int, default=2026, help="seed_scale --seed (2026)")
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per figure (20)")
    parser.add_argument("--load-seconds", type=float, default=60, help="load test length (60)")
    parser.add_argument("--clients", type=int, default=20, help="concurrent load clients (20)")
    parser.add_argument(
        "--max-requests", type=int, default=100_000, help="load test request budget (100000)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--skip-load", action="store_true", help="no gunicorn load test")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="use the data already in the database instead of seeding (for quick re-runs)",
    )
    parser.add_argument("--only", default="", help="comma-separated figure name prefixes to run")
    parser.add_argument(
        "--output", default=str(ROOT / "bench" / "results.json"), help="where to write results"
    )
    return parser.parse_args()


def setup_django() -> None:
    for name, value in SERVER_ENV.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("SECRET_KEY", "bench-" + secrets.token_urlsafe(40))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("bench needs PostgreSQL: set DATABASE_URL (make bench starts a throwaway server).")
    import django

    django.setup()


# Measuring ---------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))
    return ordered[int(rank) - 1]


@dataclass
class Target:
    median_ms: float | None = None
    max_queries: int | None = None
    status: int | None = None
    source: str = "targets"  # its section in docs/performance.md, which says why this target

    def describe(self) -> str:
        parts = []
        if self.median_ms is not None:
            parts.append(f"<{self.median_ms:g} ms")
        if self.max_queries is not None:
            parts.append(f"≤{self.max_queries} q")
        if self.status is not None:
            parts.append(f"{self.status}")
        return " ".join(parts)


@dataclass
class Figure:
    name: str
    url: str = ""
    state: str = "ok"  # ok, missing, not available, error
    note: str = ""
    statuses: dict[int, int] = field(default_factory=dict)
    times_ms: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    peak_kib: float | None = None
    target: Target | None = None
    extra: dict = field(default_factory=dict)
    passed: bool | None = None  # a verdict decided by a comparison outside this figure

    @property
    def verdict(self) -> str:
        if self.passed is not None:
            return "PASS" if self.passed else "MISS"
        if self.state != "ok":
            return "MISS" if self.state == "error" else "-"
        if self.target is None:
            return "-"
        met = True
        if self.target.median_ms is not None:
            met &= statistics.median(self.times_ms) < self.target.median_ms
        if self.target.max_queries is not None:
            met &= max(self.queries) <= self.target.max_queries
        if self.target.status is not None:
            met &= set(self.statuses) == {self.target.status}
        return "PASS" if met else "MISS"

    def line(self) -> str:
        if self.state != "ok" or not self.times_ms:
            return f"{self.name:<34} {self.state.upper():<12} {self.note}"
        median = statistics.median(self.times_ms)
        p95 = percentile(self.times_ms, 0.95)
        queries = max(self.queries)
        statuses = ",".join(str(s) for s in sorted(self.statuses))
        memory = f"{self.peak_kib:8.0f} KiB" if self.peak_kib is not None else " " * 12
        target = f"target {self.target.describe()}" if self.target else ""
        return (
            f"{self.name:<34} median {median:7.1f} ms  p95 {p95:7.1f} ms  {queries:3d} queries  "
            f"peak {memory}  [{statuses}]  {target:<22} {self.verdict}"
            + (f"  ({self.note})" if self.note else "")
        )

    def as_json(self) -> dict:
        data = {
            "name": self.name,
            "url": self.url,
            "state": self.state,
            "note": self.note,
            "verdict": self.verdict,
            "target": self.target.describe() if self.target else None,
            "target_source": f"docs/performance.md#{self.target.source}" if self.target else None,
            **self.extra,
        }
        if self.times_ms:
            data |= {
                "runs": len(self.times_ms),
                "median_ms": round(statistics.median(self.times_ms), 2),
                "p95_ms": round(percentile(self.times_ms, 0.95), 2),
                "queries": max(self.queries),
                "queries_min": min(self.queries),
                "peak_kib": round(self.peak_kib, 1) if self.peak_kib is not None else None,
                "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            }
        return data


# Figures slower than this (in the warm-up) get only SLOW_REPEAT timed runs, so a page that
# takes seconds does not stretch the bench by minutes.
SLOW_MS = 1000
SLOW_REPEAT = 5


# Django 6 also captures BEGIN and COMMIT; the query targets count SQL queries only.
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def consume(response) -> int:
    """Read the whole body (streamed or not); returns its size in bytes."""
    if getattr(response, "streaming", False):
        return sum(len(chunk) for chunk in response.streaming_content)
    return len(response.content)


def measure(
    figure: Figure,
    request: Callable[[int], object],
    repeat: int,
    *,
    warmup: int = 2,
    memory: bool = True,
    check: Callable[[object], str | None] | None = None,
) -> Figure:
    """Time `request(i)` `repeat` times; then once more under tracemalloc for peak memory.

    Timing and memory are measured separately because tracemalloc slows Python down.
    `check` looks at a response and returns a problem to report, or None.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    index = 0
    try:
        started = time.perf_counter()
        for _ in range(warmup):
            consume(request(index))
            index += 1
        if (time.perf_counter() - started) * 1000 / max(1, warmup) > SLOW_MS:
            repeat = min(repeat, SLOW_REPEAT)  # a figure that misses by seconds needs no 20 runs
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = request(index)
                consume(response)
                figure.times_ms.append((time.perf_counter() - started) * 1000)
            index += 1
            statements = [q["sql"] for q in captured.captured_queries]
            control = [sql for sql in statements if sql.startswith(TRANSACTION_CONTROL)]
            figure.queries.append(len(statements) - len(control))
            figure.extra["transaction_statements"] = len(control)
            figure.statuses[response.status_code] = figure.statuses.get(response.status_code, 0) + 1
            problem = check(response) if check else None
            if problem and not figure.note:
                figure.note = problem
        if memory:
            tracemalloc.start()
            try:
                tracemalloc.reset_peak()
                consume(request(index))
                figure.peak_kib = tracemalloc.get_traced_memory()[1] / 1024
            finally:
                tracemalloc.stop()
    except Exception as error:  # a page that breaks is a figure to report, not a crash
        figure.state = "error"
        figure.note = f"{type(error).__name__}: {str(error)[:200]}"
    return figure


def url_or_none(name: str, *args) -> str | None:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def first_url(names: list[str], paths: list[str], *args) -> str | None:
    """The first URL name that reverses, else the first path that resolves."""
    from django.urls import Resolver404, resolve

    for name in names:
        url = url_or_none(name, *args)
        if url:
            return url
    for path in paths:
        try:
            resolve(path)
            return path
        except Resolver404:
            continue
    return None


class FormParser(html.parser.HTMLParser):
    """Collects each form's action and the values a browser would submit by default."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self.current: dict | None = None
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.current = {"action": a.get("action") or "", "fields": {}, "buttons": {}}
            self.forms.append(self.current)
        elif self.current is None or not a.get("name"):
            return
        elif tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind == "submit":
                self.current["buttons"][a["name"]] = a.get("value", "")
            elif kind not in ("button", "file", "image", "reset"):
                self.current["fields"].setdefault(a["name"], a.get("value", "on"))
        elif tag == "button" and (a.get("type") or "submit") == "submit":
            self.current["buttons"][a["name"]] = a.get("value", "")
        elif tag == "select":
            self.select = a["name"]
        elif tag == "option" and self.select:
            fields = self.current["fields"]
            if "selected" in a or self.select not in fields:
                fields[self.select] = a.get("value", "")
        elif tag == "textarea":
            self.textarea = a["name"]
            self.current["fields"][a["name"]] = ""

    def handle_data(self, data):
        if self.textarea and self.current is not None:
            self.current["fields"][self.textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def form_posting_to(page: str, action: str) -> dict[str, str] | None:
    parser = FormParser()
    parser.feed(page)
    for form in parser.forms:
        if form["action"] == action:
            data = dict(form["fields"])
            data.update(dict(list(form["buttons"].items())[:1]))
            data.pop("csrfmiddlewaretoken", None)
            return data
    return None


# The figures ---------------------------------------------------------------------------------


class Bench:
    def __init__(self, args):
        from django.contrib.auth import get_user_model
        from django.test import Client

        self.args = args
        self.repeat = args.repeat
        self.figures: list[Figure] = []
        self.user = get_user_model().objects.get(username="bench")
        self.client = Client()
        self.client.force_login(self.user)
        self.htmx = {"HTTP_HX_REQUEST": "true"}
        self.only = [p.strip() for p in args.only.split(",") if p.strip()]

    def post_form(self, url: str, data: dict, **extra):
        """POST as a browser or htmx sends a form: urlencoded (the test client's default is
        multipart, which costs the server more to parse than what it really gets)."""
        return self.client.post(
            url,
            urllib.parse.urlencode(data, doseq=True),
            content_type="application/x-www-form-urlencoded",
            **extra,
        )

    def wanted(self, name: str) -> bool:
        """A step or figure runs when a prefix names it, or names a figure inside it."""
        return not self.only or any(
            name.startswith(prefix) or prefix.startswith(name) for prefix in self.only
        )

    def add(self, figure: Figure) -> None:
        self.figures.append(figure)
        print(figure.line(), flush=True)

    def missing(self, name: str, what: str) -> None:
        self.add(Figure(name, state="missing", note=f"{what} does not exist yet"))

    def run_all(self) -> None:
        steps = [
            ("board", self.board),
            ("board poll", self.board_poll),
            ("card move", self.card_moves),
            ("card detail", self.card_detail),
            ("retro", self.retro),
            ("retro meeting", self.retro_meeting),
            ("similar cards", self.similar_cards),
            ("dashboard", self.dashboard),
            ("deployment list", self.deployment_list),
            ("run", self.deployment_runs),
            ("api", self.api_ingest),
        ]
        for name, step in steps:
            if self.wanted(name):
                step()

    # Board --------------------------------------------------------------------------------

    def board(self) -> None:
        url = url_or_none("board:board")
        if not url:
            return self.missing("board page", "board")
        figure = Figure("board page", url, target=Target(150, 10, source="board"))
        measure(figure, lambda i: self.client.get(url), self.repeat)
        if figure.state == "ok":
            page = self.client.get(url).content.decode()
            figure.extra["cards_rendered"] = page.count('class="board-card')
            figure.note = f"{figure.extra['cards_rendered']} cards on the page"
        self.add(figure)
        self.board_bytes(url)

    def board_bytes(self, url: str) -> None:
        """HTML bytes per card, as sent (raw) and gzipped: the target is under 400 raw
        (docs/performance.md#board-bytes-per-card)."""
        import gzip

        response = self.client.get(url)
        body = response.content
        cards = body.count(b'class="board-card')
        if response.status_code != 200 or not cards:
            return self.missing("board bytes per card", "a board with cards")
        compressed = len(gzip.compress(body, compresslevel=6))
        served = self.client.get(url, headers={"Accept-Encoding": "gzip"})
        figure = Figure(
            "board bytes per card",
            url,
            note=f"{len(body) / cards:.0f} B raw, {compressed / cards:.0f} B gzip per card; "
            f"page {len(body) / 1024:.0f} KiB raw, {compressed / 1024:.0f} KiB gzip; "
            f"served {served.get('Content-Encoding') or 'uncompressed'}",
            extra={
                "cards": cards,
                "page_bytes": len(body),
                "page_bytes_gzip": compressed,
                "bytes_per_card": round(len(body) / cards, 1),
                "bytes_per_card_gzip": round(compressed / cards, 1),
                "served_encoding": served.get("Content-Encoding") or "",
                "target_bytes_per_card": 400,
            },
            passed=len(body) / cards < 400 and served.get("Content-Encoding") == "gzip",
        )
        self.figures.append(figure)
        print(f"{figure.name:<34} {figure.note}  target < 400 B/card  {figure.verdict}", flush=True)

    def board_poll(self) -> None:
        url = url_or_none("board:board")
        poll_url = first_url(["board_poll", "board_version", "board_state"], []) or url
        if not url:
            return self.missing("board poll unchanged (304)", "board")
        # The ETag comes with a poll answer, or on the page for the first poll (data-etag).
        page = self.client.get(url)
        found = re.search(r'data-etag="([^"]+)"', page.content.decode())
        etag = page.get("ETag") or (html.unescape(found.group(1)) if found else None)
        poll_headers = {**self.htmx, "HTTP_X_BOARD_POLL": "true"}
        if not etag:
            etag = self.client.get(poll_url, **poll_headers).get("ETag")
        if not etag:
            self.add(
                Figure(
                    "board poll unchanged (304)",
                    poll_url,
                    state="not available",
                    note=f"{poll_url} sends no ETag yet",
                )
            )
            return
        figure = Figure(
            "board poll unchanged (304)", poll_url, target=Target(None, 3, 304, "polls")
        )
        measure(
            figure,
            lambda i: self.client.get(poll_url, HTTP_IF_NONE_MATCH=etag, **poll_headers),
            self.repeat,
        )
        self.add(figure)

    def card_moves(self) -> None:
        from improvements.models import Column, Improvement

        if not url_or_none("board:card_move", 1):
            return self.missing("card move", "card_move")
        open_columns = list(
            Column.objects.exclude(state__in=[Column.State.DONE, Column.State.DROPPED]).order_by(
                "position"
            )
        )
        cards = {
            column.pk: list(
                Improvement.objects.open().filter(column=column).values_list("pk", flat=True)
            )
            for column in open_columns
        }
        by_size = sorted(open_columns, key=lambda c: -len(cards[c.pk]))
        rng = __import__("random").Random(7)

        def move(card: int, column: int, after: int | None):
            data = (
                {"column": column, "after": after} if after else {"column": column, "place": "top"}
            )
            return self.post_form(url_or_none("board:card_move", card), data, **self.htmx)

        def ok(response) -> str | None:
            if response.status_code != 200:
                return f"status {response.status_code}: {response.content[:120]!r}"
            return None

        # Within the fullest column: the worst case, since the answer re-renders that column.
        home = by_size[0]
        within = Figure(
            f"card move within column ({len(cards[home.pk])} cards)",
            url_or_none("board:card_move", cards[home.pk][0]),
            target=Target(20, 8, source="card-move"),
        )

        def move_within(i: int):
            card, after = rng.sample(cards[home.pk], 2)
            return move(card, home.pk, after)

        self.add(measure(within, move_within, self.repeat, check=ok))

        # Across: back and forth between the two fullest columns, after a random neighbour.
        first, second = by_size[0], by_size[1]
        across = Figure(
            f"card move across columns ({first.name} ⇄ {second.name})",
            within.url,
            target=Target(20, 8, source="card-move"),
        )
        placed: dict[int, int] = {}

        def move_across(i: int):
            source, target = (first, second) if i % 2 == 0 else (second, first)
            choices = [c for c in cards[source.pk] if placed.get(c, source.pk) == source.pk]
            card = rng.choice(choices)
            after = rng.choice([c for c in cards[target.pk] if c != card])
            placed[card] = target.pk
            response = move(card, target.pk, after)
            if response.status_code == 200:
                cards[source.pk].remove(card)
                cards[target.pk].append(card)
            return response

        self.add(measure(across, move_across, self.repeat, check=ok))

        # Without JavaScript the same move answers with a redirect instead of the columns.
        plain = Figure(
            "card move without htmx (redirect)",
            within.url,
            target=Target(20, 8, source="card-move"),
        )

        def move_plain(i: int):
            card, after = rng.sample(cards[home.pk], 2)
            return self.post_form(
                url_or_none("board:card_move", card), {"column": home.pk, "after": after}
            )

        self.add(measure(plain, move_plain, self.repeat))

    def card_detail(self) -> None:
        from django.db.models import Count

        from improvements.models import Improvement

        if not url_or_none("board:improvement_detail", 1):
            return self.missing("card detail", "improvement_detail")
        busiest = (
            Improvement.objects.annotate(n=Count("events")).order_by("-n").values_list("pk", "n")
        )[:1]
        pk, events = busiest[0]
        url = url_or_none("board:improvement_detail", pk)
        figure = Figure(f"card detail ({events} events)", url)
        self.add(measure(figure, lambda i: self.client.get(url), self.repeat))
        dialog = Figure("card detail as htmx fragment", url)
        self.add(measure(dialog, lambda i: self.client.get(url, **self.htmx), self.repeat))

    # Retros -------------------------------------------------------------------------------

    def fresh_retros(self, count: int, findings: int) -> list:
        """Draft retros of future duty weeks, each with `findings` findings, ready to submit."""
        from retros.models import DutyWeek, Finding, Retrospective, Unit

        last = DutyWeek.objects.order_by("-week_start").first()
        unit = last.unit
        members = list(unit.members.all()[:3])
        weeks = DutyWeek.objects.bulk_create(
            DutyWeek(
                week_start=last.week_start + datetime.timedelta(weeks=n + 1),
                unit=unit,
                qa_person=last.qa_person,
                platform_person=last.platform_person,
            )
            for n in range(count)
        )
        retros = Retrospective.objects.bulk_create(
            Retrospective(
                duty_week=week,
                facilitator=members[0],
                pain_rating=3,
                confidence_rating=3,
                summary="Bench retro.",
            )
            for week in weeks
        )
        Attendance = Retrospective.attendees.through
        people = {m.pk for m in members} | {last.qa_person_id, last.platform_person_id}
        Attendance.objects.bulk_create(
            Attendance(retrospective_id=r.pk, user_id=pk) for r in retros for pk in people if pk
        )
        kinds = [k for k, _ in Finding.Kind.choices]
        Finding.objects.bulk_create(
            Finding(
                retro=retro,
                kind=kinds[n % len(kinds)],
                text=f"Bench finding {n + 1}: the manual regression checklist took too long",
                author=members[n % len(members)],
            )
            for retro in retros
            for n in range(findings)
        )
        assert Unit.objects.exists()
        return retros

    def retro(self) -> None:
        from retros.models import Retrospective

        if not url_or_none("retros:retro_detail", 1):
            return self.missing("retro form page", "retros:retro_detail")
        retros = self.fresh_retros(self.repeat + 4, 30)
        page_url = url_or_none("retros:retro_detail", retros[0].pk)
        page = Figure("retro form page (30 findings)", page_url)
        self.add(measure(page, lambda i: self.client.get(page_url), self.repeat))

        submit_name = "retros:retro_submit"
        if not url_or_none(submit_name, 1):
            return self.missing("retro submit (30 findings)", "retros:retro_submit")
        submit_url = url_or_none(submit_name, retros[0].pk)
        page_html = self.client.get(page_url).content.decode()
        data = form_posting_to(page_html, submit_url)
        note = "" if data is not None else f"no form posts to {submit_url}; posted nothing"
        data = data or {}
        figure = Figure(
            "retro submit (30 findings)", submit_url, target=Target(50, source="retro"), note=note
        )
        remaining = list(retros)

        def submit(i: int):
            retro = remaining.pop(0)
            return self.post_form(url_or_none(submit_name, retro.pk), data)

        measure(figure, submit, self.repeat)
        used = [r.pk for r in retros[: len(retros) - len(remaining)]]
        submitted = Retrospective.objects.filter(
            pk__in=used, status=Retrospective.Status.SUBMITTED
        ).count()
        figure.extra["retros_submitted"] = f"{submitted} of {len(used)}"
        if submitted != len(used):
            figure.note = (figure.note + "; " if figure.note else "") + (
                f"only {submitted} of {len(used)} retros were submitted"
            )
        self.add(figure)

    def meeting_retro(self, findings: int, groups: int):
        """A draft retro in its Discuss phase: `findings` findings, `groups` groups of three,
        and every attendee's three votes spent (issue 14)."""
        from retros.models import Finding, FindingGroup, Retrospective, Vote

        [retro] = self.fresh_retros(1, findings)
        Retrospective.objects.filter(pk=retro.pk).update(phase=Retrospective.Phase.DISCUSS)
        members = list(Finding.objects.filter(retro=retro).order_by("id"))
        made = FindingGroup.objects.bulk_create(
            FindingGroup(retro=retro, title=f"Bench group {n + 1}") for n in range(groups)
        )
        for n, group in enumerate(made):
            Finding.objects.filter(pk__in=[f.pk for f in members[n * 3 : n * 3 + 3]]).update(
                group=group
            )
        loose = members[groups * 3 :]
        voters = list(retro.attendees.values_list("pk", flat=True))
        Vote.objects.bulk_create(
            Vote(retro=retro, voter_id=voter, group=made[(i + n) % len(made)])
            if n < 2 or not loose
            else Vote(retro=retro, voter_id=voter, finding=loose[i % len(loose)])
            for i, voter in enumerate(voters)
            for n in range(3)
        )
        return retro

    def retro_meeting(self) -> None:
        """The retro page and its poll with 60 findings in 10 groups with votes; their query
        counts must equal those of a retro with 6 findings in 1 group."""
        if not url_or_none("retros:finding_list", 1):
            return self.missing("retro meeting page", "retros:finding_list")
        small = self.meeting_retro(6, 1)
        big = self.meeting_retro(60, 10)

        def count(url: str, **headers) -> int:
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(connection) as captured:
                consume(self.client.get(url, **headers))
            return sum(
                1 for q in captured.captured_queries if not q["sql"].startswith(TRANSACTION_CONTROL)
            )

        for name, url_name, headers in [
            ("retro meeting page (60 findings)", "retros:retro_detail", {}),
            ("retro meeting poll (60, changed)", "retros:finding_list", self.htmx),
        ]:
            few = count(url_or_none(url_name, small.pk), **headers)
            url = url_or_none(url_name, big.pk)
            figure = Figure(name, url, target=Target(None, few, 200, "retro-meeting"))
            figure.extra["queries_with_6_findings"] = few
            figure.note = f"6 findings in 1 group: {few} queries"
            self.add(
                measure(figure, lambda i, u=url, h=headers: self.client.get(u, **h), self.repeat)
            )

        poll_url = url_or_none("retros:finding_list", big.pk)
        etag = self.client.get(poll_url, **self.htmx)["ETag"]
        figure = Figure(
            "retro meeting poll unchanged (304)", poll_url, target=Target(None, 3, 304, "polls")
        )
        self.add(
            measure(
                figure,
                lambda i: self.client.get(poll_url, HTTP_IF_NONE_MATCH=etag, **self.htmx),
                self.repeat,
            )
        )

    def similar_cards(self) -> None:
        """Triage's similar-card suggestions for one finding, on all 5,000 cards (issue 14)."""
        from retros.models import Finding

        if not url_or_none("triage:improvement_search"):
            return self.missing("similar cards for one finding", "improvement_search")
        finding = (
            Finding.objects.filter(kind=Finding.Kind.PAIN, retro__status="submitted")
            .exclude(text__startswith="Bench finding")  # a seeded finding, not a bench retro's
            .order_by("-id")
            .first()
        )
        url = url_or_none("triage:improvement_search")
        query = {"finding": finding.pk, "pick": "1"}
        figure = Figure(
            "similar cards for one finding", url, target=Target(30, None, 200, "similar-cards")
        )
        measure(figure, lambda i: self.client.get(url, query, **self.htmx), self.repeat)
        page = self.client.get(url, query, **self.htmx).content.decode()
        figure.extra["suggestions"] = page.count("<option value=")
        figure.note = f"{figure.extra['suggestions']} suggestions for “{finding.text[:40]}”"
        self.add(figure)

    # Dashboards ---------------------------------------------------------------------------

    def dashboard(self) -> None:
        try:
            from improvements.reporting import panels as dashboard_panels
        except ImportError:
            dashboard_panels = None
        panels = getattr(dashboard_panels, "PANELS", None) or getattr(
            dashboard_panels, "PANEL_URLS", None
        )
        urls: list[tuple[str, str]] = []
        for panel in panels or []:
            name = panel[0] if isinstance(panel, tuple | list) else str(panel)
            url = (
                name
                if name.startswith("/")
                else url_or_none("reporting:dashboard_panel", name) or url_or_none(name)
            )
            if url:
                urls.append((name, url))
        whole = url_or_none("reporting:dashboard")
        if whole:
            urls.append(("whole page", whole))
        if not urls:
            return self.missing("dashboard", "dashboard")
        for name, url in urls:
            if not self.wanted(f"dashboard: {name}"):
                continue
            headers = self.htmx if name != "whole page" else {}
            figure = Figure(f"dashboard: {name}", url, target=Target(300, source="dashboard"))
            self.add(
                measure(figure, lambda i, u=url, h=headers: self.client.get(u, **h), self.repeat)
            )

    # Deployments --------------------------------------------------------------------------

    def deployment_list(self) -> None:
        url = url_or_none("deployments:deployment_list")
        if not url:
            return self.missing("deployment list", "deployments:deployment_list")
        figure = Figure("deployment list (first page)", url)
        self.add(measure(figure, lambda i: self.client.get(url), self.repeat))

    def deployment_runs(self) -> None:
        """Issue 13: the run page with 40 steps and 20 notes, its unchanged poll, a step press."""
        from retros.models import DeploymentRun, RunStep

        if not url_or_none("runs:run_detail", 1):
            return self.missing("run page", "runs:run_detail")

        def run_of_40_steps(done: int, notes: int) -> DeploymentRun:
            run = DeploymentRun.start(self.user, environment="production", version="bench")
            copies = list(run.steps.order_by("position"))
            extra = [
                RunStep(
                    run=run,
                    process_step=copies[n % len(copies)].process_step,
                    position=len(copies) + n + 1,
                    title=f"{copies[n % len(copies)].title} (again)",
                    mode=copies[n % len(copies)].mode,
                    how_to=copies[n % len(copies)].how_to,
                )
                for n in range(max(0, 40 - len(copies)))
            ]
            RunStep.objects.bulk_create(extra)
            steps = list(run.steps.order_by("position"))[:40]
            RunStep.objects.filter(run=run).exclude(pk__in=[s.pk for s in steps]).delete()
            for step in steps[:done]:
                run.step_action(step, "start", self.user)
                run.step_action(step, "done", self.user)
            for n in range(notes):
                run.add_note(self.user, ["question", "pain", "idea"][n % 3], f"Note {n}", steps[n])
            return run

        watched = run_of_40_steps(done=20, notes=20)
        url = watched.get_absolute_url()
        page = Figure("run page (40 steps, 20 notes)", url, target=Target(150, 12, 200, "runs"))
        self.add(measure(page, lambda i: self.client.get(url), self.repeat))

        poll_url = url_or_none("runs:run_live", watched.pk)
        etag = self.client.get(poll_url, **self.htmx)["ETag"]
        poll = Figure("run poll unchanged (304)", poll_url, target=Target(None, 4, 304, "polls"))
        self.add(
            measure(
                poll,
                lambda i: self.client.get(poll_url, HTTP_IF_NONE_MATCH=etag, **self.htmx),
                self.repeat,
            )
        )

        pressed = run_of_40_steps(done=0, notes=0)
        steps = list(pressed.steps.order_by("position").values_list("pk", flat=True))

        def press(i: int):
            action = "start" if i % 2 == 0 else "done"
            step = steps[(i // 2) % len(steps)]
            return self.post_form(
                url_or_none("runs:run_step_act", step), {"action": action}, **self.htmx
            )

        action = Figure(
            "run step action (htmx)",
            "/runs/steps/<pk>/act/",
            target=Target(20, 16, 200, "runs"),
        )
        self.add(measure(action, press, self.repeat, memory=False))

    def api_ingest(self) -> None:
        from retros.models import ApiToken

        url = first_url(
            [
                "api_deployments",
                "api_deployment_ingest",
                "api_deployment_create",
                "api-deployments",
            ],
            ["/api/deployments", "/api/deployments/"],
        )
        if not url:
            return self.missing("API deployment ingest", "POST /api/deployments")
        _, key = ApiToken.issue("bench", user=self.user)
        now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)

        def ingest(i: int):
            body = {
                "pipeline_id": f"bench-{i}-{secrets.token_hex(4)}",
                "repo_url": "https://git.example.com/shop/monolith",
                "commit_sha": secrets.token_hex(20),
                "start_time": (now - datetime.timedelta(minutes=30)).isoformat(),
                "end_time": now.isoformat(),
                "environment": "PRODUCTION",
                "result": "SUCCESS",
            }
            return self.client.post(
                url,
                json.dumps(body),
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {key}",
            )

        def ok(response) -> str | None:
            if response.status_code >= 300:
                return f"status {response.status_code}: {response.content[:160]!r}"
            return None

        figure = Figure("API deployment ingest", url)
        self.add(measure(figure, ingest, self.repeat, check=ok))

    def csv_export(self) -> None:
        """Stream every deployment as CSV; memory must not grow with the number of rows."""
        from django.db import transaction

        from retros.models import Deployment

        url = first_url(["deployments:deployment_csv", "deployment_export", "deployments_csv"], [])
        if not url:
            return self.missing("CSV export of deployments", "deployments:deployment_csv")
        total = Deployment.objects.count()
        runs = max(3, self.repeat // 4)

        def export(i: int):
            return self.client.get(url)

        def check(response) -> str | None:
            if not getattr(response, "streaming", False):
                return "not streamed: the whole file is built in memory"
            return None

        full = measure(
            Figure(f"CSV export ({total:,} deployments)", url), export, runs, check=check
        )
        small_rows = max(1, total // 10)

        class Rollback(Exception):
            pass

        small = Figure(f"CSV export ({small_rows:,} deployments)", url)
        try:
            with transaction.atomic():
                keep = Deployment.objects.order_by("pk").values_list("pk", flat=True)[small_rows]
                Deployment.objects.filter(pk__gte=keep).delete()
                measure(small, export, runs, check=check)
                raise Rollback
        except Rollback:
            pass
        self.add(small)
        if full.state == "ok" and small.state == "ok" and small.peak_kib:
            ratio = full.peak_kib / small.peak_kib
            full.extra["memory_ratio_vs_tenth"] = round(ratio, 2)
            # Constant memory (docs/performance.md#csv-export): ten times the rows may not cost
            # more than 1.5 times the memory.
            # Below a few thousand rows the export's chunk buffer dominates: no verdict then.
            constant = ratio <= 1.5
            full.passed = constant if small_rows >= 5000 else None
            full.note = (
                f"{ratio:.2f}× the memory of {small_rows:,} rows: "
                + ("constant" if constant else "grows with rows")
                + ("" if not full.note else "; " + full.note)
            )
            full.extra["constant_memory"] = constant
        self.add(full)


# Load test ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(port: int, process, log: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{Path(log).read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer within a minute")


def sessions_for(users) -> list:
    """Log each user in by writing a session row, as the login view would."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from bench.load import Client

    clients = []
    for user in users:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
        token = secrets.token_hex(16)  # a CSRF secret: 32 characters, sent as cookie and header
        clients.append(Client(f"sessionid={session.session_key}; csrftoken={token}", token))
    return clients


def board_consistency() -> dict:
    from django.db.models import Count

    from improvements.models import Event, Improvement

    duplicates = (
        Improvement.objects.values("column", "position")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    return {
        "cards": Improvement.objects.count(),
        "card_ids": set(Improvement.objects.values_list("pk", flat=True)),
        "duplicate_positions": duplicates,
        "move_events": Event.objects.filter(kind=Event.Kind.MOVED).count(),
    }


def load_test(args) -> dict:
    """20 clients drag cards on gunicorn; PASS as docs/performance.md#load defines it."""
    from django.contrib.auth import get_user_model
    from django.db import connections
    from django.urls import reverse

    from bench import load
    from improvements.models import Column, Improvement
    from retros.models import Unit

    User = get_user_model()
    users = list(
        User.objects.filter(units__kind=Unit.Kind.PRODUCT).order_by("pk").distinct()[: args.clients]
    )
    clients = sessions_for(users)
    columns = list(
        Column.objects.exclude(state__in=[Column.State.DONE, Column.State.DROPPED]).values_list(
            "pk", flat=True
        )
    )
    board = load.Board(
        columns=columns,
        card_column=dict(
            Improvement.objects.open().filter(column__in=columns).values_list("pk", "column")
        ),
    )
    before = board_consistency()
    connections.close_all()

    port = free_port()
    env = {**os.environ, "WEB_CONCURRENCY": str(args.workers)}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed when gunicorn stops
        "w", prefix="bench-gunicorn-", suffix=".log", delete=False
    )
    process = subprocess.Popen(
        [
            str(gunicorn),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--timeout",
            "120",
            "--error-logfile",
            "-",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_up(port, process, log.name)
        print(
            f"gunicorn ({args.workers} workers) on 127.0.0.1:{port}; {len(clients)} clients "
            f"for {args.load_seconds:g} s ...",
            flush=True,
        )
        result = load.run(
            host="127.0.0.1",
            port=port,
            clients=clients,
            board=board,
            board_path=reverse("board:board"),
            move_path=lambda card: reverse("board:card_move", args=[card]),
            seconds=args.load_seconds,
            max_requests=args.max_requests,
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()

    result["gunicorn_log"] = log.name
    after = board_consistency()
    moves_ok = result["kinds"].get("move", {}).get("statuses", {}).get("200", 0)
    result["consistency"] = {
        "cards_before": before["cards"],
        "cards_after": after["cards"],
        "lost_cards": len(before["card_ids"] - after["card_ids"]),
        "new_cards": len(after["card_ids"] - before["card_ids"]),
        "duplicate_positions": after["duplicate_positions"],
        "successful_moves": moves_ok,
        "move_events_written": after["move_events"] - before["move_events"],
    }
    c = result["consistency"]
    server_errors = sum(k["server_errors"] for k in result["kinds"].values())
    result["verdict"] = (
        "PASS"
        if server_errors == 0
        and result["exceptions"] == 0
        and c["lost_cards"] == 0
        and c["new_cards"] == 0
        and c["duplicate_positions"] == 0
        and c["successful_moves"] == c["move_events_written"]
        else "MISS"
    )
    return result


def print_load(result: dict) -> None:
    for kind, figures in result["kinds"].items():
        statuses = ", ".join(f"{n}×{s}" for s, n in figures["statuses"].items())
        print(
            f"load: {kind:<29} {figures['per_second']:6.1f} req/s  p50 {figures['p50_ms']:7.1f} ms"
            f"  p95 {figures['p95_ms']:7.1f} ms  p99 {figures['p99_ms']:7.1f} ms  [{statuses}]"
        )
    c = result["consistency"]
    print(
        f"load: {result['requests']} requests in {result['seconds']} s, "
        f"{result['exceptions']} connection errors; "
        f"cards {c['cards_before']} → {c['cards_after']}, "
        f"{c['lost_cards']} lost, {c['duplicate_positions']} duplicate positions, "
        f"{c['successful_moves']} moves answered 200, {c['move_events_written']} move events  "
        f"{result['verdict']}"
    )


# Machine and run -----------------------------------------------------------------------------


def machine() -> dict:
    from django.db import connection

    def read(path: str) -> str:
        try:
            return Path(path).read_text()
        except OSError:
            return ""

    cpu = next(
        (line.split(":", 1)[1].strip() for line in read("/proc/cpuinfo").splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    memory_kib = next(
        (int(line.split()[1]) for line in read("/proc/meminfo").splitlines()
         if line.startswith("MemTotal")),
        0,
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    import django

    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": postgres,
        # Other work on the machine slows every figure down; the load average tells how much.
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def data_counts() -> dict:
    from improvements.models import Column, Event, Improvement
    from retros.models import Deployment, DutyWeek, Finding, Retrospective, Unit

    return {
        "units": Unit.objects.count(),
        "duty_weeks": DutyWeek.objects.count(),
        "retros": Retrospective.objects.count(),
        "findings": Finding.objects.count(),
        "improvements": Improvement.objects.count(),
        "open_cards": Improvement.objects.open()
        .exclude(column__state__in=[Column.State.DONE, Column.State.DROPPED])
        .count(),
        "events": Event.objects.count(),
        "deployments": Deployment.objects.count(),
    }


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return ""


def main() -> None:
    args = parse_args()
    setup_django()
    from django.core.management import call_command

    from retros.models import Unit

    started = time.monotonic()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    if args.reuse and Unit.objects.exists():
        print("Reusing the data already in the database.")
        seed_seconds = None
    else:
        seed_started = time.monotonic()
        call_command("seed_scale", years=args.years, scale=args.scale, seed=args.seed)
        seed_seconds = round(time.monotonic() - seed_started, 1)
    counts = data_counts()
    info = machine()
    print(
        f"Machine: {info['nproc']} CPUs ({info['cpu']}), {info['memory_gib']} GiB, "
        f"PostgreSQL {info['postgresql']}, Python {info['python']}, Django {info['django']}; "
        f"load average {info['load_average_1min']}"
    )
    print("Data: " + ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in counts.items()))
    print(
        f"Each figure: {args.repeat} timed runs in-process (DEBUG off) after 2 warm-up runs; "
        f"{SLOW_REPEAT} runs for figures slower than {SLOW_MS} ms.\n"
    )

    bench = Bench(args)
    bench.run_all()
    if bench.wanted("csv"):
        bench.csv_export()

    load_result = None
    if not args.skip_load and bench.wanted("load"):
        load_result = load_test(args)
        print_load(load_result)

    figures = [f.as_json() for f in bench.figures]
    results = {
        "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "machine": info,
        "options": {
            "years": args.years,
            "scale": args.scale,
            "seed": args.seed,
            "repeat": args.repeat,
            "load_seconds": args.load_seconds,
            "clients": args.clients,
            "workers": args.workers,
        },
        "seed_seconds": seed_seconds,
        "data": counts,
        "figures": figures,
        "load": load_result,
        "seconds": round(time.monotonic() - started, 1),
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
    }
    Path(args.output).write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    verdicts = [f["verdict"] for f in figures] + ([load_result["verdict"]] if load_result else [])
    print(
        f"\n{verdicts.count('PASS')} PASS, {verdicts.count('MISS')} MISS, "
        f"{sum(1 for f in figures if f['state'] in ('missing', 'not available'))} not measured; "
        f"results in {args.output} ({results['seconds']:.0f} s)"
    )


if __name__ == "__main__":
    main()
