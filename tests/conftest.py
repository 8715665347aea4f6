"""Shared fixtures: the three standing users of every permission test, and seeded board data."""

import datetime
from importlib import import_module

import pytest
from django.apps import apps
from django.utils import timezone

from improvements.models import Category, Column, Comment, Event, FindingLink, Improvement
from retros.models import (
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


@pytest.fixture(autouse=True)
def board_defaults(db):
    """The seeded categories and columns; transactional tests flush them, so seed again."""
    import_module("improvements.migrations.0002_seed_categories_and_columns").seed(apps, None)


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
