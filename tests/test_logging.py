"""What the logs say: each line once under the development server, and one line (not a
traceback) per request that fails because the database is away."""

import http.client
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

from django.conf import settings
from django.db import OperationalError, connection
from django.test import Client

from config.health import OneLineForDatabaseOutage
from tests.reliability.servers import free_port

ROOT = Path(settings.BASE_DIR)


def test_the_development_server_prints_each_log_line_once(tmp_path):
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.sqlite3'}",
    }
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                probe.request("GET", "/feeds/units/no-such-token!.ics")
                assert probe.getresponse().status == 404
                break
            except OSError:
                assert time.monotonic() < deadline, "runserver did not come up"
                time.sleep(0.3)
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0]
    assert output.count("Not Found: /feeds/units/no-such-token!.ics") == 1, output
    assert output.count('"GET /feeds/units/no-such-token!.ics HTTP/1.1" 404') == 1, output


def test_a_request_that_loses_the_database_logs_one_line(db, owner, caplog):
    client = Client(raise_request_exception=False)
    client.force_login(owner)
    with (
        caplog.at_level(logging.WARNING),
        mock.patch.object(connection, "cursor", side_effect=OperationalError("server closed")),
    ):
        response = client.get("/board/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    records = [r for r in caplog.records if r.name == "django.request"]
    assert len(records) == 1
    assert records[0].getMessage() == (
        "Service Unavailable: /board/ (database unavailable: server closed)"
    )
    assert records[0].exc_info is None
    assert "Traceback" not in caplog.text


def test_other_server_errors_keep_their_traceback():
    try:
        raise ValueError("a bug")
    except ValueError:
        record = logging.LogRecord(
            "django.request",
            logging.ERROR,
            __file__,
            1,
            "Internal Server Error: %s",
            ("/x",),
            sys.exc_info(),
        )
    assert OneLineForDatabaseOutage().filter(record)
    assert record.exc_info is not None
    assert record.getMessage() == "Internal Server Error: /x"
