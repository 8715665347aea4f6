"""Real processes for the tests that need them: a free port, the test database's URL from
outside, gunicorn on loopback, and a restart of the PostgreSQL server of .ci/with-postgres."""

import os
import socket
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_gunicorn(port: int, env: dict, log, workers: int, *options: str) -> subprocess.Popen:
    """gunicorn serving config.wsgi on 127.0.0.1:`port`, writing its output to the file `log`."""
    command = [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi"]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", str(workers), *options]
    return subprocess.Popen(  # noqa: S603 - our own app
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )


def restart_postgres() -> None:
    """Restart the test database's server (needs PG_BIN and PG_DATA from .ci/with-postgres)."""
    pg_ctl = [f"{os.environ['PG_BIN']}/pg_ctl", "-D", os.environ["PG_DATA"], "restart"]
    pg_ctl += ["-m", "fast", "-w"]
    if os.geteuid() == 0:
        pg_ctl = ["runuser", "-u", "postgres", "--", *pg_ctl]
    # The server outlives pg_ctl: give it no pipe of ours to hold open.
    subprocess.run(  # noqa: S603
        pg_ctl, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60
    )
