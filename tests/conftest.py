"""Shared fixtures: the three standing users of every permission test, and seeded board data."""

from importlib import import_module

import pytest
from django.apps import apps

from improvements.models import Column

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
