"""Shared fixtures: the three standing users of every permission test, and seeded board data."""

import datetime
from importlib import import_module

import pytest
from django.apps import apps
from django.utils import timezone

from improvements.models import Category, Column, Comment, Event, FindingLink, Improvement
from retros.models import (
    ApiToken,
    ChatWebhook,
    Deployment,
    DeploymentRun,
    DutyWeek,
    Finding,
    FindingGroup,
    ProcessStep,
    Retrospective,
    RunStep,
    Unit,
)
from retros.weeks import monday_of

from .factories import DutyWeekFactory, UnitFactory, UserFactory
from .receiver import Receiver
from .retros.github_webhooks import SECRET as GITHUB_SECRET

SEED = import_module("improvements.migrations.0002_seed_categories_and_columns")

# What makes pytest-django give a test the database (its own rule, in _get_databases_for_test).
DATABASE_FIXTURES = {"db", "transactional_db", "live_server"}


def uses_database(request) -> bool:
    return not DATABASE_FIXTURES.isdisjoint(request.fixturenames) or bool(
        request.node.get_closest_marker("django_db")
    )


@pytest.fixture(autouse=True)
def board_defaults(request):
    """The seeded categories and columns, in every test that uses the database.

    Only there: a test of a pure function gets no database, and a run of only such tests
    creates none. Transactional tests flush the tables afterwards, so seed again.
    """
    if not uses_database(request):
        return
    request.getfixturevalue("db")
    # Most tests find the migration's rows in place (their transaction rolls back): looking
    # takes two queries, the seed nine. The seed would do nothing exactly when both hold.
    slugs = [slug for _name, slug, _colour in SEED.CATEGORIES]
    if Category.objects.filter(slug__in=slugs).count() < len(slugs) or not Column.objects.exists():
        SEED.seed(apps, None)


@pytest.fixture
def owner(db):
    """A member of the unit on duty this week."""
    return UserFactory(username="owner")


@pytest.fixture
def teammate(db):
    """Another member of the unit on duty."""
    return UserFactory(username="teammate")


@pytest.fixture
def outsider(db):
    """Logged in, but in no unit: may read, may not write."""
    return UserFactory(username="outsider")


@pytest.fixture
def staff(db):
    return UserFactory(username="staff", is_staff=True)


@pytest.fixture
def platform_member(db):
    """A member of the platform unit: looks after units, the process and the board's columns."""
    member = UserFactory(username="plat")
    UnitFactory(name="Platform", kind=Unit.Kind.PLATFORM, members=[member])
    return member


@pytest.fixture
def platform_client(client, platform_member):
    client.force_login(platform_member)
    return client


@pytest.fixture
def qa_member(db):
    """A member of the QA unit: may change a process step's mode."""
    member = UserFactory(username="quinn")
    UnitFactory(name="QA", kind=Unit.Kind.QA, members=[member])
    return member


@pytest.fixture
def qa_client(client, qa_member):
    client.force_login(qa_member)
    return client


@pytest.fixture
def unit(owner, teammate):
    return UnitFactory(name="Payments", members=[owner, teammate])


@pytest.fixture
def duty_week(unit):
    return DutyWeekFactory(unit=unit)


@pytest.fixture
def columns(db):
    """The seeded columns by name: Ideas, Next, In progress, Done."""
    return {column.name: column for column in Column.objects.all()}


@pytest.fixture
def owner_client(client, owner, unit):
    client.force_login(owner)
    return client


@pytest.fixture
def outsider_client(client, outsider):
    client.force_login(outsider)
    return client


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2 takes most of a test's setup on a busy 2-core machine; tests need no real hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def ci_token(db):
    """The API token the CI uses, as ApiToken.issue gives it: (token, key)."""
    return ApiToken.issue("CI")


@pytest.fixture
def api(client, ci_token):
    """The test client, sending the CI's token on every request."""
    _, key = ci_token
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client


@pytest.fixture
def github_secret(settings):
    """The webhook secret tests/retros/github_webhooks.py signs with."""
    settings.GITHUB_WEBHOOK_SECRET = GITHUB_SECRET


@pytest.fixture
def receiver():
    """An HTTP server on loopback that records what the outbox posts to it."""
    receiver = Receiver()
    yield receiver
    receiver.close()


MATRIX_PK = 9001


@pytest.fixture
def world(owner, teammate, outsider, staff):
    """One of everything a URL can name, each with pk MATRIX_PK, around this week's duty."""
    unit = Unit.objects.create(pk=MATRIX_PK, name="Payments")
    unit.members.add(owner, teammate)
    week = DutyWeek.objects.create(
        pk=MATRIX_PK,
        week_start=monday_of(timezone.localdate()),
        unit=unit,
        qa_person=UserFactory(username="qa"),
        platform_person=UserFactory(username="platform"),
    )
    retro = Retrospective.objects.create(pk=MATRIX_PK, duty_week=week, facilitator=owner)
    Finding.objects.create(
        pk=MATRIX_PK, retro=retro, kind="pain", text="Slow deploys", author=owner
    )
    now = timezone.now()
    Deployment.objects.create(
        pk=MATRIX_PK, started_at=now - datetime.timedelta(hours=1), finished_at=now, deployer=owner
    )
    step = ProcessStep.objects.create(pk=MATRIX_PK, title="Smoke test by hand", position=MATRIX_PK)
    run = DeploymentRun.objects.create(pk=MATRIX_PK, duty_week=week, started_by=owner)
    RunStep.objects.create(
        pk=MATRIX_PK, run=run, process_step=step, position=1, title=step.title, mode="manual"
    )
    column = Column.objects.create(pk=MATRIX_PK, name="Parking", position=MATRIX_PK)
    category = Category.objects.create(pk=MATRIX_PK, name="Hostile", slug="hostile")
    card = Improvement.objects.create(
        pk=MATRIX_PK,
        title="Automate smoke test",
        category=category,
        column=column,
        position=1024,
        unit=unit,
        assignee=owner,
        target_step=step,
        created_by=owner,
    )
    Event.objects.create(improvement=card, kind=Event.Kind.CREATED, actor=owner)
    Comment.objects.create(improvement=card, author=owner, body="On it")
    # Finding MATRIX_PK stays untriaged, so triage URLs have work to do; another one is linked.
    linked = Finding.objects.create(
        retro=retro, kind="idea", text="Automate it", author=owner, outcome="improvement"
    )
    FindingLink.objects.create(finding=linked, improvement=card, linked_by=owner)
    # A group of the meeting (issue 14), with a pain of its own, for the group URLs.
    group = FindingGroup.objects.create(pk=MATRIX_PK, retro=retro, title="Waiting")
    Finding.objects.create(retro=retro, kind="pain", text="Waited for QA", group=group)
    ChatWebhook.objects.create(pk=MATRIX_PK, unit=unit, url="https://chat.example/hooks/9001")
    return {
        "unit": unit,
        "week": week,
        "owner": owner,
        "teammate": teammate,
        "outsider": outsider,
        "staff": staff,
    }
