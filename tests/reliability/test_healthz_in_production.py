"""/healthz answers a load balancer under the README's production settings.

A real gunicorn with DEBUG off, ALLOWED_HOSTS=wallbreaker.example.com and the HTTPS redirect
on is probed the way haproxy, nginx and Kubernetes do it: plain HTTP, by IP address, GET and
HEAD. It must answer 200 with the database and 503 without it, never 400 or a redirect, while
every other URL keeps the host check and the redirect.
"""

import http.client
import os
import signal
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.reliability.servers import database_url, free_port, start_gunicorn

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="runs gunicorn against the test PostgreSQL"
)


def production_env(tmp_path: Path, database: str) -> dict[str, str]:
    """The README's "Running in production" settings, nothing relaxed."""
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "DEBUG"}}
    for name in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
        env.pop(name, None)
    return {
        **env,
        "DEBUG": "0",
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "wallbreaker.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://wallbreaker.example.com",
        "SECURE_PROXY_SSL_HEADER_ON": "1",
        "TRUSTED_PROXY_COUNT": "1",
        "DATABASE_URL": database,
        "STATIC_ROOT": str(tmp_path / "static"),
    }


def request(port: int, method: str, path: str = "/healthz", host: str | None = None, **headers):
    probe = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    probe.request(method, path, headers={"Host": host or f"127.0.0.1:{port}", **headers})
    response = probe.getresponse()
    body = response.read()
    probe.close()
    return response, body


@pytest.fixture
def gunicorn(db, tmp_path):
    started = []
    logs: dict[int, Path] = {}

    def start(database: str) -> int:
        env = production_env(tmp_path, database)
        port = free_port()
        log = tmp_path / f"gunicorn-{port}.log"
        process = start_gunicorn(port, env, log.open("w"), 1)
        started.append(process)
        logs[port] = log
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                request(port, "HEAD")
                return port
            except OSError:
                time.sleep(0.2)
        pytest.fail("gunicorn did not come up:\n" + log.read_text())

    start.logs = logs
    yield start
    for process in started:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


def test_healthz_answers_200_to_get_and_head_by_ip_over_plain_http(gunicorn):
    port = gunicorn(database_url())

    for host in (f"127.0.0.1:{port}", "127.0.0.1", "10.0.3.7", "wallbreaker.example.com"):
        response, body = request(port, "GET", host=host)
        assert response.status == 200, (host, response.status, response.getheader("Location"))
        assert body == b'{"status": "ok", "database": "ok"}'
        assert "no-cache" in response.getheader("Cache-Control")
        response, body = request(port, "HEAD", host=host)
        assert (response.status, body) == (200, b""), host


def test_every_other_url_keeps_the_host_check_and_the_https_redirect(gunicorn):
    port = gunicorn(database_url())

    assert request(port, "GET", "/board/")[0].status == 400  # by IP
    assert request(port, "GET", "/healthz/")[0].status == 400  # only the exact path is exempt
    assert request(port, "POST", "/healthz")[0].status == 400
    response, _ = request(port, "GET", "/board/", host="wallbreaker.example.com")
    assert response.status == 301
    assert response.getheader("Location") == "https://wallbreaker.example.com/board/"


def test_healthz_answers_503_to_get_and_head_without_the_database(gunicorn):
    nowhere = f"postgres://nobody@127.0.0.1:{free_port()}/gone"
    port = gunicorn(nowhere)

    response, body = request(port, "GET")
    assert response.status == 503
    assert body == b'{"status": "error", "database": "unreachable"}'
    response, body = request(port, "HEAD", host="wallbreaker.example.com")
    assert (response.status, body) == (503, b"")

    # A page (its session needs the database) answers 503 too, logged as one line.
    response, _ = request(
        port,
        "GET",
        "/board/",
        host="wallbreaker.example.com",
        Cookie="sessionid=" + "a" * 32,
        **{"X-Forwarded-Proto": "https"},
    )
    assert response.status == 503
    assert response.getheader("Retry-After") == "5"
    log = gunicorn.logs[port].read_text()
    assert log.count("Service Unavailable: /board/ (database unavailable:") == 1, log
    assert "Traceback" not in log, log
