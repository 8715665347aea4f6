"""The weekly update: the retro, what it raised and what moved on the board that week."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from improvements.models import Column
from improvements.operations import promote_finding
from improvements.reporting.weekly_update import week_label
from retros.models import Finding
from retros.weeks import monday_of
from tests.factories import (
    DeploymentFactory,
    FindingFactory,
    ImprovementFactory,
    RetrospectiveFactory,
)


@pytest.fixture
def this_week():
    return week_label(monday_of(timezone.localdate()))


def test_it_summarises_the_retro_and_the_boards_moves(
    outsider_client, owner, duty_week, columns, this_week
):
    retro = RetrospectiveFactory(duty_week=duty_week, summary="A calm week", pain_rating=2)
    retro.submit()
    pain = FindingFactory(retro=retro, kind=Finding.Kind.PAIN, text="Waiting for approvals")
    FindingFactory(retro=retro, kind=Finding.Kind.WENT_WELL, text="Rollback was quick")
    card = promote_finding(pain, owner, title="Auto-approve staging")
    finished = ImprovementFactory(title="Smoke tests automated")
    finished.move_to(columns["Done"], actor=owner)
    DeploymentFactory()

    response = outsider_client.get(reverse("reporting:weekly_update", args=[this_week]))

    text = response.text
    assert response.status_code == 200
    assert "A calm week" in text
    assert "Waiting for approvals" in text and "Auto-approve staging" in text
    assert "Rollback was quick" in text
    assert "Smoke tests automated" in text
    assert card.get_absolute_url() in text


def test_it_comes_as_markdown_ready_to_paste(outsider_client, duty_week, this_week, owner):
    retro = RetrospectiveFactory(duty_week=duty_week)
    FindingFactory(retro=retro, kind=Finding.Kind.IDEA, text="Feature <b>flags</b>\nfor all")

    response = outsider_client.get(
        reverse("reporting:weekly_update", args=[this_week]), {"format": "md"}
    )

    assert response["Content-Type"].startswith("text/markdown")
    body = response.content.decode()
    assert body.startswith(f"# Deployment week {this_week}")
    assert "On duty: Payments" in body
    assert "- Feature <b>flags</b> for all" in body
    assert "Nothing moved on the board." in body


def test_a_week_without_duty_or_retro_still_renders(outsider_client):
    response = outsider_client.get(reverse("reporting:weekly_update", args=["2020-W05"]))

    assert response.status_code == 200
    assert "No retro was held." in response.text


def test_a_bad_week_is_not_found(outsider_client):
    assert outsider_client.get(reverse("reporting:weekly_update", args=["soon"])).status_code == 404


def test_the_current_update_redirects_to_this_week(outsider_client, this_week):
    response = outsider_client.get(reverse("reporting:weekly_update_now"))

    assert response["Location"] == reverse("reporting:weekly_update", args=[this_week])


def test_the_update_queries_do_not_grow_with_events(
    outsider_client, owner, duty_week, columns, this_week, django_assert_max_num_queries
):
    for n in range(10):
        card = ImprovementFactory(title=f"Card {n}")
        card.move_to(columns["In progress"], actor=owner)
    assert Column.objects.count() >= 4

    with django_assert_max_num_queries(12):
        outsider_client.get(reverse("reporting:weekly_update", args=[this_week]))


def test_last_weeks_update_does_not_show_this_weeks_moves(outsider_client, owner, columns):
    card = ImprovementFactory(title="Moved this week")
    card.move_to(columns["Done"], actor=owner)
    last = week_label(monday_of(timezone.localdate()) - datetime.timedelta(weeks=1))

    response = outsider_client.get(reverse("reporting:weekly_update", args=[last]))

    assert "Moved this week" not in response.text
