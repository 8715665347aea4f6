"""The dashboard page, its panel fragments, CSV downloads and the effect verdict."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from improvements.models import Event, FindingLink, Improvement
from improvements.reporting.panels import PANELS
from retros.models import Retrospective
from tests.factories import (
    DeploymentFactory,
    DutyWeekFactory,
    EventFactory,
    FindingFactory,
    ImprovementFactory,
    ProcessStepFactory,
    RetrospectiveFactory,
    UnitFactory,
)


def rows_of(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_every_panel_needs_a_login(client, db):
    for url in (
        reverse("reporting:dashboard_panel", args=["wip"]),
        reverse("reporting:dashboard_csv", args=["wip"]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_the_page_shows_every_section_and_panel(outsider_client):
    response = outsider_client.get(reverse("reporting:dashboard"))
    assert response.status_code == 200
    page = response.content.decode()
    for heading in (
        "Improvement flow",
        "Retro follow-through",
        "Deployment trends",
        "Did it help?",
    ):
        assert heading in page
    for name in PANELS:
        assert f'id="panel-{name}"' in page
        assert reverse("reporting:dashboard_csv", args=[name]) in page
    assert "<script>" not in page  # CSP: chart data only as json_script


@pytest.mark.parametrize("name", PANELS)
def test_each_panel_is_a_fragment_of_its_own(outsider_client, name):
    response = outsider_client.get(
        reverse("reporting:dashboard_panel", args=[name]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="panel-{name}"' in body
    assert "<html" not in body


def test_an_unknown_panel_is_not_found(outsider_client):
    assert (
        outsider_client.get(reverse("reporting:dashboard_panel", args=["nope"])).status_code == 404
    )
    assert outsider_client.get(reverse("reporting:dashboard_csv", args=["nope"])).status_code == 404


def test_throughput_csv_has_one_row_per_week(outsider_client, columns):
    monday = datetime.date(2025, 3, 3)
    done = timezone.make_aware(datetime.datetime(2025, 3, 12, 10), datetime.UTC)
    ImprovementFactory(column=columns["Done"], done_at=done, created_at=done)
    ImprovementFactory(column=columns["Done"], done_at=done, created_at=done)
    response = outsider_client.get(
        reverse("reporting:dashboard_csv", args=["throughput"]),
        {"start": monday, "end": "2025-03-23"},
    )
    assert response["Content-Type"].startswith("text/csv")
    assert "wallbreaker-throughput-20250303-20250323.csv" in response["Content-Disposition"]
    assert rows_of(response) == [
        ["Week of", "Cards done"],
        ["2025-03-03", "0"],
        ["2025-03-10", "2"],
        ["2025-03-17", "0"],
    ]


def test_a_panel_url_answers_csv_when_asked(outsider_client, columns):
    response = outsider_client.get(
        reverse("reporting:dashboard_panel", args=["wip"]), {"format": "csv"}
    )
    assert rows_of(response)[0] == ["Column", "Cards", "WIP limit", "Over limit"]
    assert [row[0] for row in rows_of(response)[1:]] == ["Ideas", "Next", "In progress", "Done"]


def test_xmr_csv_marks_the_point_outside_the_limits(outsider_client):
    start = timezone.make_aware(datetime.datetime(2025, 3, 3, 9), datetime.UTC)
    for day, minutes in enumerate([10, 12, 11, 13, 30]):
        started = start + datetime.timedelta(days=day)
        DeploymentFactory(
            started_at=started, finished_at=started + datetime.timedelta(minutes=minutes)
        )
    response = outsider_client.get(
        reverse("reporting:dashboard_csv", args=["elapsed"]),
        {"start": "2025-03-01", "end": "2025-03-31"},
    )
    rows = rows_of(response)
    assert rows[0] == ["Deployment", "Started", "Minutes", "Signal", "Run"]
    assert [row[2] for row in rows[1:]] == ["10", "12", "11", "13", "30"]
    assert [row[3] for row in rows[1:]] == ["", "", "", "", "outside limits"]
    page = outsider_client.get(
        reverse("reporting:dashboard_panel", args=["elapsed"]),
        {"start": "2025-03-01", "end": "2025-03-31"},
    ).content.decode()
    assert "Centre line (mean) <strong>15.2</strong>" in page
    assert "<strong>0.6</strong> to <strong>29.8</strong>" in page


def test_dora_panel_states_its_bands(outsider_client):
    page = outsider_client.get(reverse("reporting:dashboard_panel", args=["dora"])).content.decode()
    assert "5 % or less" in page and "more than 15 %" in page
    assert "at least once a day" in page


def test_filters_by_unit_and_category_are_kept_in_the_url(outsider_client, columns):
    payments = UnitFactory(name="Payments")
    ImprovementFactory(column=columns["Next"], unit=payments)
    ImprovementFactory(column=columns["Next"])
    response = outsider_client.get(
        reverse("reporting:dashboard"), {"unit": payments.pk, "category": "automate"}
    )
    page = response.content.decode()
    assert f"unit={payments.pk}" in page  # CSV and panel links keep the filters
    wip = outsider_client.get(
        reverse("reporting:dashboard_csv", args=["wip"]), {"unit": payments.pk}
    )
    assert rows_of(wip)[2] == ["Next", "1", "8", "no"]


def test_a_bad_date_range_shows_an_error_and_still_renders(outsider_client):
    response = outsider_client.get(
        reverse("reporting:dashboard"), {"start": "2025-03-10", "end": "2025-03-01"}
    )
    assert response.status_code == 200
    assert "The end date comes after the start date." in response.content.decode()


def make_data(columns, size: int, unit, offset: int = 0) -> None:
    """`size` of everything the dashboard reads, spread over the last weeks."""
    now = timezone.now()
    step = ProcessStepFactory()
    for index in range(size):
        day = now - datetime.timedelta(days=index % 60 + 1, hours=index % 7)
        DeploymentFactory(
            started_at=day,
            finished_at=day + datetime.timedelta(minutes=30 + index % 40),
            blocked_minutes=index % 3,
            restarts=index % 2,
        )
        card = ImprovementFactory(
            column=columns["Done"] if index % 2 else columns["In progress"],
            created_at=day - datetime.timedelta(days=5),
            started_at=day - datetime.timedelta(days=2),
            done_at=day if index % 2 else None,
            target_step=step,
            unit=unit,
        )
        EventFactory(improvement=card, kind=Event.Kind.CREATED, to_column=columns["Ideas"], at=day)
        EventFactory(
            improvement=card,
            kind=Event.Kind.MOVED,
            from_column=columns["Ideas"],
            to_column=card.column,
            at=day + datetime.timedelta(hours=1),
        )
        this_monday = timezone.localdate(now) - datetime.timedelta(days=now.weekday())
        week = DutyWeekFactory(
            week_start=this_monday - datetime.timedelta(weeks=offset + index + 1), unit=unit
        )
        retro = RetrospectiveFactory(duty_week=week, status=Retrospective.Status.SUBMITTED)
        FindingLink.objects.create(finding=FindingFactory(retro=retro), improvement=card)
        step.change_mode("automated" if index % 2 else "manual")


def test_the_dashboard_runs_a_fixed_number_of_queries(
    owner_client, columns, unit, django_assert_max_num_queries
):
    make_data(columns, 3, unit)
    with CaptureQueriesContext(connection) as small:
        assert owner_client.get(reverse("reporting:dashboard")).status_code == 200
    make_data(columns, 30, unit, offset=3)
    with django_assert_max_num_queries(len(small)):
        response = owner_client.get(reverse("reporting:dashboard"))
    assert response.status_code == 200
    assert len(small) <= 45


@pytest.mark.parametrize("name", PANELS)
def test_each_panel_runs_a_fixed_number_of_queries(
    owner_client, columns, unit, name, django_assert_max_num_queries
):
    make_data(columns, 3, unit)  # three, so that one action has slipped already
    url = reverse("reporting:dashboard_panel", args=[name])
    with CaptureQueriesContext(connection) as small:
        owner_client.get(url)
    make_data(columns, 20, unit, offset=3)
    with django_assert_max_num_queries(len(small)):
        owner_client.get(url)


# --- Confirming a verdict ---------------------------------------------------------------------


@pytest.fixture
def finished(columns, unit):
    return ImprovementFactory(
        column=columns["Done"],
        done_at=timezone.now(),
        unit=unit,
        expected_effect="Deployments 20 minutes shorter",
    )


def test_a_unit_member_confirms_the_verdict(owner_client, owner, finished):
    response = owner_client.post(
        reverse("reporting:effect_verdict", args=[finished.pk]),
        {"verdict": "confirmed", "suggested": "confirmed", "next": "/dashboard/?unit=1"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/?unit=1"
    finished.refresh_from_db()
    assert finished.effect_verdict == Improvement.Verdict.CONFIRMED
    event = Event.objects.get(improvement=finished, kind=Event.Kind.VERDICT)
    assert event.actor == owner
    assert event.data == {"verdict": "confirmed", "previous": "pending", "suggested": "confirmed"}


def test_staff_may_set_a_verdict_on_any_card(client, staff, finished):
    client.force_login(staff)
    client.post(reverse("reporting:effect_verdict", args=[finished.pk]), {"verdict": "regressed"})
    finished.refresh_from_db()
    assert finished.effect_verdict == Improvement.Verdict.REGRESSED


def test_an_outsider_may_not_set_a_verdict(outsider_client, finished):
    response = outsider_client.post(
        reverse("reporting:effect_verdict", args=[finished.pk]), {"verdict": "confirmed"}
    )
    assert response.status_code == 403
    finished.refresh_from_db()
    assert finished.effect_verdict == Improvement.Verdict.PENDING
    assert not Event.objects.filter(kind=Event.Kind.VERDICT).exists()


def test_setting_a_verdict_rejects_get_and_bad_input(owner_client, finished, columns):
    url = reverse("reporting:effect_verdict", args=[finished.pk])
    assert owner_client.get(url).status_code == 405
    assert owner_client.post(url, {"verdict": "great"}).status_code == 400
    unfinished = ImprovementFactory(column=columns["Next"], unit=finished.unit)
    response = owner_client.post(
        reverse("reporting:effect_verdict", args=[unfinished.pk]), {"verdict": "confirmed"}
    )
    assert response.status_code == 400
    assert not Event.objects.filter(kind=Event.Kind.VERDICT).exists()


def test_a_verdict_never_redirects_off_site(owner_client, finished):
    response = owner_client.post(
        reverse("reporting:effect_verdict", args=[finished.pk]),
        {"verdict": "no_effect", "next": "https://evil.example.com/"},
    )
    assert response["Location"].startswith(reverse("reporting:dashboard"))


def test_the_effects_panel_offers_the_form_only_to_those_allowed(owner, outsider, finished):
    url = reverse("reporting:dashboard_panel", args=["effects"])
    action = reverse("reporting:effect_verdict", args=[finished.pk])
    member, stranger = Client(), Client()
    member.force_login(owner)
    stranger.force_login(outsider)
    assert f'action="{action}"' in member.get(url).content.decode()
    outsider_page = stranger.get(url).content.decode()
    assert finished.title in outsider_page
    assert action not in outsider_page
