"""One voice on every page: names for people, no Django defaults, tenses that fit the week."""

import datetime
import re

from django.urls import reverse
from django.utils import timezone

from retros.models import Unit
from retros.people import display_name
from retros.weeks import monday_of
from tests.factories import (
    DeploymentFactory,
    DutyWeekFactory,
    ImprovementFactory,
    UnitFactory,
    UserFactory,
)


def test_a_person_is_named_by_their_full_name_or_else_their_username(db):
    assert display_name(UserFactory(username="sven", first_name="Sven", last_name="Berg")) == (
        "Sven Berg"
    )
    assert display_name(UserFactory(username="tariq", first_name="", last_name="")) == "tariq"
    assert display_name(None) == ""


def test_the_duty_week_form_names_people_and_its_empty_choices(client, staff):
    qa = UnitFactory(kind=Unit.Kind.QA)
    qa.members.add(UserFactory(username="sven", first_name="Sven", last_name=""))
    week = DutyWeekFactory(qa_person=None, platform_person=None)
    client.force_login(staff)
    page = client.get(reverse("teams:duty_week_edit", args=[week.pk])).content.decode()
    assert "Select an option" not in page and "---------" not in page
    assert '<option value="">Choose…</option>' in page
    assert '<option value="" selected>Nobody</option>' in page
    assert re.search(r'<option value="\d+">Sven</option>', page)
    assert ":</label>" not in page


def test_pages_name_people_not_usernames(client, staff):
    person = UserFactory(username="qa-7", first_name="Tariq", last_name="Aziz")
    DutyWeekFactory(qa_person=person, week_start=monday_of(timezone.localdate()))
    card = ImprovementFactory(assignee=person)
    DeploymentFactory(deployer=person)
    client.force_login(staff)
    pages = [
        reverse("teams:rotation"),
        reverse("board:improvement_detail", args=[card.pk]),
        reverse("deployments:deployment_list"),
        reverse("board:board"),
    ]
    for url in pages:
        page = client.get(url).content.decode()
        assert "Tariq Aziz" in page, url
        assert ">qa-7<" not in page and "@qa-7" not in page, url
    assert len(pages) == 4


def test_a_future_week_update_does_not_say_no_retro_was_held(client, staff):
    client.force_login(staff)
    next_week = monday_of(timezone.localdate()) + datetime.timedelta(weeks=1)
    label = f"{next_week.isocalendar().year}-W{next_week.isocalendar().week:02d}"
    page = client.get(reverse("reporting:weekly_update", args=[label])).content.decode()
    assert "No retro was held" not in page
    assert "still to come" in page
    past = monday_of(timezone.localdate()) - datetime.timedelta(weeks=3)
    label = f"{past.isocalendar().year}-W{past.isocalendar().week:02d}"
    assert "No retro was held" in client.get(reverse("reporting:weekly_update", args=[label])).text


def test_the_deployment_log_shows_the_columns_that_matter(client, staff):
    DeploymentFactory(version="2026.11.30-build-4711")
    client.force_login(staff)
    page = client.get(reverse("deployments:deployment_list")).content.decode()
    head = page[page.index("<thead>") : page.index("</thead>")]
    assert re.findall(r'<th scope="col"[^>]*>([^<]+)</th>', head) == [
        "Started",
        "Duty week",
        "Environment",
        "Result",
        "Elapsed min",
        "Hands-on min",
        "Deployer",
    ]
    assert 'class="deployments stack-on-phone"' in page and 'data-after="min elapsed"' in page
    assert "2026.11.30-build-4711" not in page
