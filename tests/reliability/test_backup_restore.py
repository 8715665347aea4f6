"""The documented backup commands round-trip every row (make backup / make restore)."""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import psycopg
import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection

from tests.factories import (
    CommentFactory,
    DeploymentFactory,
    EventFactory,
    FindingFactory,
    ImprovementFactory,
    ProcessStepFactory,
    RetrospectiveFactory,
)
from tests.reliability.servers import database_url

ROOT = Path(settings.BASE_DIR)
SKIPPED_APPS = {"contenttypes", "sessions", "admin", "axes"}

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def some_of_everything(duty_week, owner):
    retro = RetrospectiveFactory(duty_week=duty_week)
    FindingFactory.create_batch(3, retro=retro, author=owner)
    DeploymentFactory.create_batch(4, deployer=owner)
    ProcessStepFactory.create_batch(2)
    card = ImprovementFactory(title="Automate the smoke test", description="<script>x</script>")
    EventFactory(improvement=card)
    CommentFactory(improvement=card, author=owner)


def our_tables() -> list[str]:
    return [
        model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label not in SKIPPED_APPS and model._meta.db_table != "auth_permission"
    ]


def row_counts(cursor) -> dict[str, int]:
    counts = {}
    for table in our_tables():
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608 - our own table names
        counts[table] = cursor.fetchone()[0]
    return counts


def make(*args: str, **env: str) -> None:
    result = subprocess.run(
        ["make", "-s", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump needs PostgreSQL")
@pytest.mark.skipif(not shutil.which("pg_dump"), reason="pg_dump is not installed")
def test_pg_dump_backup_restores_into_an_empty_database_with_every_row(
    some_of_everything, tmp_path
):
    with connection.cursor() as cursor:
        before = row_counts(cursor)
    dump = tmp_path / "wallbreaker.dump"
    make("backup", f"BACKUP={dump}", DATABASE_URL=database_url())

    target = f"{connection.settings_dict['NAME']}_restore"
    admin_url = database_url().rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{target}"')
        admin.execute(f'CREATE DATABASE "{target}"')
    try:
        target_url = database_url().rsplit("/", 1)[0] + f"/{target}"
        make("restore", f"FILE={dump}", DATABASE_URL=target_url)
        with psycopg.connect(target_url) as restored, restored.cursor() as cursor:
            assert row_counts(cursor) == before
            cursor.execute("SELECT description FROM improvements_improvement")
            assert cursor.fetchone()[0] == "<script>x</script>"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{target}"')
    assert sum(before.values()) > 20


@pytest.mark.skipif(connection.vendor != "postgresql", reason="reads the test database by URL")
def test_dumpdata_backup_loads_into_a_fresh_sqlite_database_with_every_row(
    some_of_everything, tmp_path
):
    with connection.cursor() as cursor:
        before = row_counts(cursor)
    dump = tmp_path / "wallbreaker.json"
    make("backup", "FORMAT=json", f"BACKUP={dump}", DATABASE_URL=database_url())
    sqlite_file = tmp_path / "restored.sqlite3"
    make("restore", f"FILE={dump}", DATABASE_URL=f"sqlite:///{sqlite_file}")
    with sqlite3.connect(sqlite_file) as restored:
        assert row_counts(restored.cursor()) == before
