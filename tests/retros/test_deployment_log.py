import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from retros.csv_export import csv_safe
from retros.models import Deployment
from tests.factories import DeploymentFactory, DutyWeekFactory, UnitFactory


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def deployed(week, hours: int, **fields):
    """A deployment on the Monday of `week`, from 10:00 for `hours` hours."""
    start = at(week.week_start)
    return DeploymentFactory(
        started_at=start, finished_at=start + datetime.timedelta(hours=hours), **fields
    )


@pytest.fixture
def two_weeks(unit):
    """A deployment in each of two duty weeks, run by different units."""
    other = UnitFactory(name="Search")
    first = DutyWeekFactory(unit=unit, week_start=datetime.date(2026, 3, 2))
    second = DutyWeekFactory(unit=other, week_start=datetime.date(2026, 3, 9))
    a = deployed(
        first, 1, version="alpha", result="success", environment="production", trigger="manual"
    )
    b = deployed(
        second, 2, version="bravo", result="failure", environment="staging", trigger="scripted"
    )
    return a, b, other


def versions(response):
    return [d.version for d in response.context["page"].object_list]


def test_everyone_logged_in_reads_the_log_newest_first(outsider_client, two_weeks):
    response = outsider_client.get(reverse("deployments:deployment_list"))
    assert response.status_code == 200
    assert versions(response) == ["bravo", "alpha"]
    assert reverse("deployments:deployment_create") not in response.content.decode()


def test_a_unit_member_is_offered_to_log_one(owner_client):
    response = owner_client.get(reverse("deployments:deployment_list"))
    assert reverse("deployments:deployment_create") in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"week": "2026-W10"}, ["alpha"]),
        ({"week": "2026-W11"}, ["bravo"]),
        ({"environment": "staging"}, ["bravo"]),
        ({"result": "success"}, ["alpha"]),
        ({"trigger": "scripted"}, ["bravo"]),
        ({"result": "failure", "environment": "production"}, []),
    ],
)
def test_it_filters_by_the_url(owner_client, two_weeks, query, expected):
    response = owner_client.get(reverse("deployments:deployment_list"), query)
    assert versions(response) == expected


def test_it_filters_by_the_unit_on_duty(owner_client, two_weeks):
    _, _, other = two_weeks
    response = owner_client.get(reverse("deployments:deployment_list"), {"unit": other.pk})
    assert versions(response) == ["bravo"]


def test_a_badly_written_week_is_explained_and_lists_nothing(owner_client, two_weeks):
    response = owner_client.get(reverse("deployments:deployment_list"), {"week": "last week"})
    assert "Write the week as YYYY-Www" in response.content.decode()
    assert versions(response) == []
    assert response.context["stats"]["count"] == 0


def test_a_week_the_year_does_not_have_is_named_so_and_lists_nothing(owner_client, two_weeks):
    response = owner_client.get(reverse("deployments:deployment_list"), {"week": "2027-W53"})
    page = response.content.decode()
    assert "2027-W53 does not exist: 2027 has weeks W01 to W52." in page
    assert "Write the week as" not in page
    assert versions(response) == []
    assert 'value="2027-W53"' in page  # the filter stays as typed, to correct it


def test_week_53_of_a_year_that_has_one_filters(owner_client, two_weeks):
    response = owner_client.get(reverse("deployments:deployment_list"), {"week": "2026-W53"})
    assert response.status_code == 200
    assert "does not exist" not in response.content.decode()


def test_the_csv_of_an_impossible_week_is_empty_not_everything(owner_client, two_weeks):
    response = owner_client.get(reverse("deployments:deployment_csv"), {"week": "2027-W53"})
    rows = b"".join(response.streaming_content).decode().splitlines()
    assert len(rows) == 1  # the header


def test_the_totals_follow_the_filters(owner_client, two_weeks):
    response = owner_client.get(reverse("deployments:deployment_list"), {"result": "failure"})
    assert response.context["stats"]["count"] == 1
    assert response.context["stats"]["elapsed_minutes"] == 120


def test_it_pages_fifty_at_a_time_and_keeps_the_filters(
    owner_client, django_assert_max_num_queries
):
    start = timezone.now() - datetime.timedelta(days=3)
    Deployment.objects.bulk_create(
        Deployment(
            started_at=start + datetime.timedelta(minutes=n),
            finished_at=start + datetime.timedelta(minutes=n + 5),
            environment="staging",
        )
        for n in range(120)
    )
    with django_assert_max_num_queries(10):
        response = owner_client.get(
            reverse("deployments:deployment_list"), {"environment": "staging"}
        )
    assert len(response.context["page"].object_list) == 50
    assert "environment=staging&amp;page=2" in response.content.decode()
    last = owner_client.get(
        reverse("deployments:deployment_list"), {"environment": "staging", "page": 3}
    )
    assert len(last.context["page"].object_list) == 20


def read_csv(response) -> list[list[str]]:
    assert response.streaming
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_csv_holds_the_filtered_deployments(owner_client, two_weeks, owner):
    alpha, _, _ = two_weeks
    alpha.deployer = owner
    alpha.save()
    response = owner_client.get(reverse("deployments:deployment_csv"), {"week": "2026-W10"})
    assert response["Content-Type"] == "text/csv"
    assert "attachment" in response["Content-Disposition"]
    header, *rows = read_csv(response)
    assert header[:5] == ["id", "started_at", "finished_at", "environment", "result"]
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["version"] == "alpha"
    assert row["deployer"] == "owner"
    assert row["unit"] == "Payments"
    assert row["elapsed_minutes"] == "60"
    assert row["duty_week"] == "2026-03-02"


@pytest.mark.parametrize(
    ("typed", "exported"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTAB", "'\tTAB"),
        ("\rCR", "'\rCR"),
        ("plain note", "plain note"),
        ("a = b", "a = b"),
    ],
)
def test_the_csv_defuses_formulas(owner_client, typed, exported):
    DeploymentFactory(notes=typed, blocked_cause=typed)
    header, row = read_csv(owner_client.get(reverse("deployments:deployment_csv")))
    cells = dict(zip(header, row, strict=True))
    assert cells["notes"] == exported
    assert cells["blocked_cause"] == exported


def test_csv_safe_leaves_numbers_alone():
    assert csv_safe(5) == "5"
    assert csv_safe(None) == ""


def test_the_csv_streams_many_rows_in_few_queries(owner_client, django_assert_max_num_queries):
    start = timezone.now() - datetime.timedelta(days=30)
    Deployment.objects.bulk_create(
        Deployment(
            started_at=start + datetime.timedelta(minutes=n),
            finished_at=start + datetime.timedelta(minutes=n + 1),
        )
        for n in range(5000)
    )
    with django_assert_max_num_queries(8):
        response = owner_client.get(reverse("deployments:deployment_csv"))
        rows = read_csv(response)
    assert len(rows) == 5001
