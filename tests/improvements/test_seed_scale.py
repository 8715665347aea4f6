"""seed_scale builds the benchmark organisation: the same seed gives the same rows."""

import datetime
import hashlib
from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from improvements.models import Column, Comment, Event, FindingLink, Improvement
from retros.models import (
    Deployment,
    DutyWeek,
    Finding,
    ProcessStep,
    ProcessStepChange,
    Retrospective,
    Unit,
)

SMALL = {"years": 1, "scale": 0.02, "until": datetime.date(2026, 3, 4), "verbosity": 0}
MODELS = [
    get_user_model(),
    Unit,
    Unit.members.through,
    ProcessStep,
    ProcessStepChange,
    DutyWeek,
    Retrospective,
    Retrospective.attendees.through,
    Finding,
    Improvement,
    FindingLink,
    Event,
    Comment,
    Deployment,
]


def digest() -> str:
    """A hash of every column of every row seed_scale writes, in primary-key order."""
    sha = hashlib.sha256()
    for model in MODELS:
        fields = [field.attname for field in model._meta.concrete_fields]
        for row in model.objects.order_by("pk").values_list(*fields):
            sha.update(repr(row).encode())
    return sha.hexdigest()


def seed_fresh(**options) -> str:
    """Empty the database (ids restart at 1), seed it and return the digest."""
    call_command("flush", interactive=False, verbosity=0)
    import_module("improvements.migrations.0002_seed_categories_and_columns").seed(apps, None)
    call_command("seed_scale", **{**SMALL, **options})
    return digest()


@pytest.mark.django_db(transaction=True)
def test_the_same_seed_gives_the_same_rows_and_another_seed_does_not():
    first = seed_fresh(seed=7)
    assert Deployment.objects.count() > 0 and Event.objects.count() > 0
    assert seed_fresh(seed=7) == first
    assert seed_fresh(seed=8) != first


@pytest.mark.django_db
def test_it_builds_the_organisation_at_the_asked_scale():
    call_command("seed_scale", years=1, scale=0.05, until=datetime.date(2026, 3, 4), verbosity=0)
    assert Unit.objects.count() == 30
    assert DutyWeek.objects.count() == 52 and Retrospective.objects.count() == 52
    # Per ten years: 15,000 findings, 5,000 improvements, 100,000 events, 50,000 deployments.
    assert Finding.objects.count() == 75
    assert Deployment.objects.count() == 250
    assert Event.objects.count() == 500
    open_cards = Improvement.objects.open().exclude(column__state=Column.State.DONE)
    assert open_cards.count() == 50
    assert Improvement.objects.count() == 63  # room for the open cards and more


@pytest.mark.django_db
def test_cards_have_distinct_positions_in_every_column():
    call_command("seed_scale", **SMALL)
    positions = list(Improvement.objects.values_list("column_id", "position"))
    assert len(positions) == len(set(positions))
    assert all(position % 1024 == 0 for _, position in positions)


@pytest.mark.django_db
def test_deployments_carry_what_save_would_compute():
    call_command("seed_scale", **SMALL)
    for deployment in Deployment.objects.select_related("duty_week")[:50]:
        minutes = (deployment.finished_at - deployment.started_at).total_seconds() / 60
        assert deployment.elapsed_minutes == round(minutes)
        start = deployment.duty_week.week_start
        assert start <= deployment.started_at.date() <= deployment.duty_week.week_end


@pytest.mark.django_db
def test_it_refuses_a_database_that_has_data(unit):
    with pytest.raises(CommandError, match="freshly migrated"):
        call_command("seed_scale", **SMALL)
    assert Deployment.objects.count() == 0
