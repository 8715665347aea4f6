"""Every state the data model allows renders: each optional field empty, each nullable foreign
key null (a cleared field, a deleted user), on every page that can show it.

The world of the access matrix is built, then every nullable field of every model of ours (and
the user model) is set to NULL, every optional text to "" and every optional many-to-many
emptied. Then every routed page, every dashboard panel and CSV, the calendar feeds, the weekly
update and every admin changelist and change page are read as staff and as a plain user, each
as a page and as the fragment htmx asks for.
"""

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import IntegrityError, models, transaction
from django.test import Client
from django.urls import reverse

from improvements.models import Category, Column, Improvement
from improvements.reporting.panels import PANELS
from retros.models import PersonFeed, Retrospective
from tests.conftest import MATRIX_PK
from tests.test_access_matrix import ROUTES, fill

APPS = ("retros", "improvements")


def our_models() -> list[type[models.Model]]:
    return [*(m for a in APPS for m in apps.get_app_config(a).get_models()), get_user_model()]


def empty_everything_optional() -> dict[str, int]:
    """Set every optional field of every row to its empty value; count what was emptied."""
    counts = {"models": 0, "fields": 0, "refused by a constraint": 0}
    for model in our_models():
        counts["models"] += 1
        for field in model._meta.get_fields():
            if field.auto_created or not field.concrete and not field.many_to_many:
                continue
            if field.many_to_many:
                if field.blank:
                    for row in model.objects.all():
                        getattr(row, field.name).clear()
                    counts["fields"] += 1
                continue
            if field.primary_key:
                continue
            if field.null:
                empty = None
            elif field.blank and isinstance(field, (models.CharField, models.TextField)):
                if field.choices:
                    continue
                empty = ""
            else:
                continue
            try:
                with transaction.atomic():
                    model.objects.update(**{field.name: empty})
                counts["fields"] += 1
            except IntegrityError:
                counts["refused by a constraint"] += 1
    return counts


def pages(world, person_token: str) -> list[str]:
    paths = []
    for route, name in ROUTES:
        if route.startswith("api/") or name in {"logout", "teams:person_feed"}:
            continue
        paths.append(fill(route, world))
    paths.append(reverse("teams:person_feed", args=[person_token]))
    paths += [reverse("reporting:dashboard_panel", args=[name]) for name in PANELS]
    paths += [reverse("reporting:dashboard_csv", args=[name]) for name in PANELS]
    week = world["week"].iso_label
    paths += [f"/updates/{week}/?format=md", "/updates/?format=md"]
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        paths.append(reverse(f"{prefix}_changelist"))
        row = model.objects.order_by("pk").first()
        if row is not None:
            paths.append(reverse(f"{prefix}_change", args=[row.pk]))
    return paths


def test_every_page_renders_with_every_optional_field_empty(world, staff, outsider):
    person_token = PersonFeed.for_user(world["owner"]).token
    counts = empty_everything_optional()
    assert counts["fields"] >= 30, counts

    paths = pages(world, person_token)
    failures, read = [], 0
    for user in (staff, outsider):
        client = Client(raise_request_exception=False)
        client.force_login(user)
        for path in paths:
            # As a page, and as the fragment htmx asks for (views answer it with a partial).
            for headers in ({}, {"HX-Request": "true"}):
                response = client.get(path, headers=headers)
                read += 1
                if response.status_code >= 500:
                    failures.append(f"{user} GET {path} {headers} -> {response.status_code}")
    print(
        f"\nEmpty states: {counts['models']} models, {counts['fields']} optional fields emptied "
        f"({counts['refused by a constraint']} kept by a constraint), {len(paths)} pages, "
        f"{read} reads, {len(failures)} server errors"
    )
    assert len(paths) > 70
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("kind", ["qa_person", "platform_person"])
def test_a_deleted_person_of_a_duty_week_leaves_every_page_readable(world, staff, kind):
    person = getattr(world["week"], kind)
    person.delete()
    client = Client(raise_request_exception=False)
    client.force_login(staff)
    for path in pages(world, PersonFeed.for_user(world["owner"]).token):
        assert client.get(path).status_code < 500, path


def test_a_board_without_columns_or_categories_renders_everywhere_and_refuses_new_cards(
    world, staff, outsider
):
    # An admin may delete every column and category once no card uses them.
    Improvement.objects.all().delete()
    Column.objects.all().delete()
    Category.objects.all().delete()
    paths = pages(world, PersonFeed.for_user(world["owner"]).token)
    failures, read = [], 0
    for user in (staff, outsider):
        client = Client(raise_request_exception=False)
        client.force_login(user)
        for path in paths:
            response = client.get(path)
            read += 1
            if response.status_code >= 500:
                failures.append(f"{user} GET {path} -> {response.status_code}")
    assert len(paths) > 70 and read == 2 * len(paths)
    assert not failures, "\n".join(failures)

    retro = Retrospective.objects.get(pk=world["week"].pk)
    retro.submit()
    client = Client(raise_request_exception=False)
    client.force_login(staff)
    promote = client.post(
        reverse("triage:finding_promote", args=[MATRIX_PK]), {"title": "Automate it"}
    )
    assert 400 <= promote.status_code < 500
    assert not Improvement.objects.exists()
