import datetime

from django.urls import reverse

from retros.models import PersonFeed
from retros.views.feeds import escape_text, fold
from tests.factories import DutyWeekFactory, UnitFactory


def unfold(body: str) -> str:
    return body.replace("\r\n ", "")


def test_text_is_escaped():
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"


def test_long_lines_are_folded_at_75_octets_without_splitting_characters():
    line = "SUMMARY:" + "é" * 100
    folded = fold(line)
    parts = folded.split("\r\n")
    assert all(len(part.encode()) <= 75 for part in parts)
    assert all(part.startswith(" ") for part in parts[1:])
    assert unfold(folded) == line


def test_the_unit_feed_needs_no_login_and_lists_its_duty_weeks(client, duty_week):
    unit = duty_week.unit
    other = DutyWeekFactory(
        week_start=duty_week.week_start + datetime.timedelta(weeks=1),
        unit=UnitFactory(name="Other"),
    )

    response = client.get(reverse("teams:unit_feed", args=[unit.feed_token]))

    body = unfold(response.content.decode())
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert body.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert body.endswith("END:VCALENDAR\r\n")
    assert f"DTSTART;VALUE=DATE:{duty_week.week_start:%Y%m%d}" in body
    assert "SUMMARY:Deployment duty: Payments" in body
    assert f"duty-{other.pk}-" not in body


def test_an_unknown_token_is_not_found(client, db):
    assert client.get(reverse("teams:unit_feed", args=["nope"])).status_code == 404
    assert client.get(reverse("teams:person_feed", args=["nope"])).status_code == 404


def test_a_persons_feed_shows_each_role_they_have(client, duty_week, owner):
    qa = duty_week.qa_person
    feed = PersonFeed.for_user(qa)
    owner_feed = PersonFeed.for_user(owner)

    qa_body = unfold(client.get(reverse("teams:person_feed", args=[feed.token])).content.decode())
    owner_body = unfold(
        client.get(reverse("teams:person_feed", args=[owner_feed.token])).content.decode()
    )

    assert "SUMMARY:QA shadow for Payments deployments" in qa_body
    assert "Deployment duty: Payments" not in qa_body
    assert "SUMMARY:Deployment duty: Payments" in owner_body


def test_a_person_renews_their_feed_url(owner_client, owner):
    old = PersonFeed.for_user(owner).token

    owner_client.post(reverse("teams:person_feed_regenerate"))

    assert PersonFeed.objects.get(user=owner).token != old
    assert owner_client.get(reverse("teams:person_feed", args=[old])).status_code == 404


def test_the_rotation_page_shows_my_feed_url(owner_client, owner, duty_week):
    response = owner_client.get(reverse("teams:rotation"))

    assert PersonFeed.objects.get(user=owner).token in response.text
    assert duty_week.iso_label in response.text
