"""The meeting after collecting: phases, grouping, votes, and what other attendees see."""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from retros.models import Finding, FindingGroup, Retrospective, Vote
from tests.factories import FindingFactory, RetrospectiveFactory
from tests.threads import at_once


@pytest.fixture
def retro(duty_week, owner):
    return RetrospectiveFactory(duty_week=duty_week, facilitator=owner)


def phase(client, retro, name):
    return client.post(reverse("retros:retro_phase", args=[retro.pk]), {"phase": name})


def group(client, retro, finding, target):
    return client.post(
        reverse("retros:finding_group", args=[retro.pk]), {"finding": finding.pk, "target": target}
    )


def vote(client, retro, target, action="add", **headers):
    return client.post(
        reverse("retros:retro_vote", args=[retro.pk]),
        {"target": target, "action": action},
        **headers,
    )


# Phases ---------------------------------------------------------------------------------


def test_the_facilitator_moves_the_meeting_through_its_phases(owner_client, retro):
    for name in ["group", "vote", "discuss", "collect"]:
        assert phase(owner_client, retro, name).status_code == 302
        retro.refresh_from_db()
        assert retro.phase == name


def test_an_unknown_phase_is_refused_with_a_reason(owner_client, retro):
    response = owner_client.post(
        reverse("retros:retro_phase", args=[retro.pk]), {"phase": "party"}, HTTP_HX_REQUEST="true"
    )

    assert "Choose one of the meeting" in response.text
    assert Retrospective.objects.get(pk=retro.pk).phase == "collect"


def test_the_phase_bar_shows_where_the_meeting_is(owner_client, client, teammate, retro):
    phase(owner_client, retro, "vote")
    client.force_login(teammate)

    page = client.get(reverse("retros:retro_detail", args=[retro.pk])).text

    assert '<li class="phase current" aria-current="step">Vote</li>' in page
    assert "3 of 3</strong> votes left" in page
    assert 'id="phase-next"' not in page  # only the facilitator moves it on


def test_the_vote_budget_is_set_per_retro_within_limits(owner_client, retro):
    url = reverse("retros:retro_vote_budget", args=[retro.pk])

    owner_client.post(url, {"votes_per_person": "5"})
    owner_client.post(url, {"votes_per_person": "500"})
    owner_client.post(url, {"votes_per_person": "-1"})

    assert Retrospective.objects.get(pk=retro.pk).votes_per_person == 5


# Grouping -------------------------------------------------------------------------------


def test_dropping_a_finding_on_another_makes_a_group_titled_after_the_target(owner_client, retro):
    first = FindingFactory(retro=retro, text="Smoke test by hand\nsecond line")
    second = FindingFactory(retro=retro, text="Nobody knew which pages to check")

    response = group(owner_client, retro, second, f"f{first.pk}")

    assert response.status_code == 302
    made = FindingGroup.objects.get()
    assert made.title == "Smoke test by hand"
    assert set(made.findings.all()) == {first, second}


def test_a_finding_joins_an_existing_group_and_leaving_it_dissolves_a_group_of_one(
    owner_client, retro
):
    a, b, c = (FindingFactory(retro=retro) for _ in range(3))
    group(owner_client, retro, b, f"f{a.pk}")
    made = FindingGroup.objects.get()

    group(owner_client, retro, c, f"g{made.pk}")
    assert made.findings.count() == 3

    owner_client.post(reverse("retros:finding_ungroup", args=[c.pk]))
    owner_client.post(reverse("retros:finding_ungroup", args=[b.pk]))

    assert not FindingGroup.objects.exists()
    assert not Finding.objects.filter(group__isnull=False).exists()


def test_votes_follow_findings_into_a_group_and_back_out(owner_client, owner, retro):
    a, b = FindingFactory(retro=retro), FindingFactory(retro=retro)
    Vote.objects.create(retro=retro, voter=owner, finding=a)
    Vote.objects.create(retro=retro, voter=owner, finding=b)

    group(owner_client, retro, b, f"f{a.pk}")
    made = FindingGroup.objects.get()
    assert Vote.objects.filter(group=made).count() == 2

    owner_client.post(reverse("retros:finding_ungroup", args=[b.pk]))  # a group of one dissolves
    assert Vote.objects.filter(finding=a).count() == 2
    assert Vote.objects.count() == 2


def test_the_keyboard_grouping_form_lists_findings_and_groups(owner_client, retro):
    a, b = FindingFactory(retro=retro, text="First"), FindingFactory(retro=retro, text="Second")
    phase(owner_client, retro, "group")
    group(owner_client, retro, b, f"f{a.pk}")

    page = owner_client.get(reverse("retros:retro_detail", args=[retro.pk]), {"group": a.pk}).text

    form = page.split('id="group-form"')[1].split("</form>")[0]
    assert f'<option value="{a.pk}" selected>' in form
    assert f'value="g{FindingGroup.objects.get().pk}"' in form
    assert "autofocus" in form


def test_a_group_is_renamed(owner_client, retro):
    a, b = FindingFactory(retro=retro), FindingFactory(retro=retro)
    group(owner_client, retro, b, f"f{a.pk}")
    made = FindingGroup.objects.get()

    owner_client.post(reverse("retros:group_rename", args=[made.pk]), {"title": "  Smoke   tests "})
    owner_client.post(reverse("retros:group_rename", args=[made.pk]), {"title": "   "})

    made.refresh_from_db()
    assert made.title == "Smoke tests"


def test_a_finding_cannot_be_grouped_with_itself_or_another_retros_finding(
    owner_client, retro, duty_week
):
    a = FindingFactory(retro=retro)
    other_week = duty_week.week_start - datetime.timedelta(weeks=1)
    elsewhere = FindingFactory(retro__duty_week__week_start=other_week)

    group(owner_client, retro, a, f"f{a.pk}")
    group(owner_client, retro, a, f"f{elsewhere.pk}")

    assert not FindingGroup.objects.exists()


@pytest.mark.parametrize("who", ["owner", "teammate"])
def test_the_retros_people_group(client, request, retro, who):
    a, b = FindingFactory(retro=retro), FindingFactory(retro=retro)
    client.force_login(request.getfixturevalue(who))

    assert group(client, retro, b, f"f{a.pk}").status_code == 302
    assert FindingGroup.objects.count() == 1


def test_an_outsider_may_not_group_ungroup_or_rename(outsider_client, retro):
    a, b = FindingFactory(retro=retro), FindingFactory(retro=retro)
    made = FindingGroup.objects.create(retro=retro, title="Kept")
    Finding.objects.filter(pk=a.pk).update(group=made)

    responses = [
        group(outsider_client, retro, b, f"f{a.pk}"),
        outsider_client.post(reverse("retros:finding_ungroup", args=[a.pk])),
        outsider_client.post(reverse("retros:group_rename", args=[made.pk]), {"title": "Mine"}),
    ]

    assert [r.status_code for r in responses] == [403, 403, 403]
    made.refresh_from_db()
    assert (made.title, made.findings.count()) == ("Kept", 1)


def test_a_submitted_retro_keeps_its_groups_even_for_the_facilitator(owner_client, retro):
    a, b = FindingFactory(retro=retro), FindingFactory(retro=retro)
    retro.submit()

    assert group(owner_client, retro, b, f"f{a.pk}").status_code == 403


# Votes ----------------------------------------------------------------------------------


def test_each_attendee_has_the_retros_votes_and_no_more(owner_client, owner, retro):
    a, b = FindingFactory(retro=retro), FindingFactory(retro=retro)
    phase(owner_client, retro, "vote")

    for target in [f"f{a.pk}", f"f{a.pk}", f"f{b.pk}", f"f{b.pk}"]:
        vote(owner_client, retro, target)

    assert Vote.objects.filter(voter=owner).count() == 3
    response = vote(owner_client, retro, f"f{b.pk}", HTTP_HX_REQUEST="true")
    assert "You have used all 3 of your votes" in response.text


def test_a_vote_is_taken_back(owner_client, owner, retro):
    a = FindingFactory(retro=retro)
    phase(owner_client, retro, "vote")
    vote(owner_client, retro, f"f{a.pk}")
    vote(owner_client, retro, f"f{a.pk}")

    vote(owner_client, retro, f"f{a.pk}", action="remove")

    assert Vote.objects.filter(voter=owner, finding=a).count() == 1


def test_a_vote_for_a_grouped_finding_goes_to_its_group(owner_client, retro):
    a, b = FindingFactory(retro=retro), FindingFactory(retro=retro)
    group(owner_client, retro, b, f"f{a.pk}")
    phase(owner_client, retro, "vote")

    vote(owner_client, retro, f"f{a.pk}")

    assert Vote.objects.get().group == FindingGroup.objects.get()


def test_votes_are_cast_only_in_the_vote_phase(owner_client, retro):
    a = FindingFactory(retro=retro)

    assert vote(owner_client, retro, f"f{a.pk}").status_code == 403
    assert not Vote.objects.exists()


@pytest.mark.parametrize(("who", "status"), [("teammate", 302), ("outsider", 403)])
def test_the_retros_people_vote_and_outsiders_do_not(client, request, owner, retro, who, status):
    a = FindingFactory(retro=retro)
    retro.set_phase("vote")
    client.force_login(request.getfixturevalue(who))

    assert vote(client, retro, f"f{a.pk}").status_code == status
    assert Vote.objects.count() == (1 if status == 302 else 0)


def test_totals_stay_secret_while_voting_and_show_when_it_closes(
    owner_client, client, owner, teammate, retro
):
    a = FindingFactory(retro=retro, text="Flaky e2e")
    phase(owner_client, retro, "vote")
    vote(owner_client, retro, f"f{a.pk}")
    vote(owner_client, retro, f"f{a.pk}")
    client.force_login(teammate)
    url = reverse("retros:retro_detail", args=[retro.pk])

    during = client.get(url).text
    Retrospective.objects.get(pk=retro.pk).set_phase("discuss")
    after = client.get(url).text

    assert "2 votes" not in during
    assert '<span class="vote-total">2 votes</span>' in after
    assert "Most votes" in after


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_tabs_voting_at_once_cannot_overspend_the_budget(owner, unit):
    retro = RetrospectiveFactory(duty_week__unit=unit, facilitator=owner)
    retro.votes_per_person = 1
    retro.phase = "vote"
    retro.save()
    a, b = FindingFactory(retro=retro), FindingFactory(retro=retro)
    tabs = [Client(), Client()]
    for tab in tabs:
        tab.force_login(owner)
    answers = at_once(
        [
            lambda tab=tab, finding=finding: vote(tab, retro, f"f{finding.pk}")
            for tab, finding in zip(tabs, [a, b], strict=True)
        ]
    )

    assert [answer.status_code for answer in answers] == [302, 302]
    assert Vote.objects.filter(voter=owner).count() == 1


# Live -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    ["finding", "group", "vote", "phase"],
)
def test_every_meeting_change_reaches_other_attendees_polls(
    owner_client, client, owner, teammate, retro, change
):
    a, b = FindingFactory(retro=retro, author=owner), FindingFactory(retro=retro, author=owner)
    if change == "vote":
        retro.set_phase("vote")
    client.force_login(teammate)
    url = reverse("retros:finding_list", args=[retro.pk])
    etag = client.get(url)["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304

    owner_client_ = Client()
    owner_client_.force_login(owner)
    if change == "finding":
        owner_client_.post(
            reverse("retros:finding_add", args=[retro.pk]), {"kind": "idea", "text": "New"}
        )
    elif change == "group":
        group(owner_client_, retro, b, f"f{a.pk}")
    elif change == "vote":
        vote(owner_client_, retro, f"f{a.pk}")
    else:
        phase(owner_client_, retro, "group")

    fresh = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert fresh.status_code == 200
    assert 'id="phase-bar"' in fresh.text and 'id="finding-groups"' in fresh.text


def test_the_poll_answers_in_the_same_queries_for_60_findings_in_10_groups_as_for_6(
    owner_client, owner, teammate, retro, django_assert_max_num_queries
):
    def build(count):
        findings = [FindingFactory(retro=retro, author=owner) for _ in range(count)]
        for n in range(0, count, 6):
            made = FindingGroup.objects.create(retro=retro, title=f"Group {n}")
            Finding.objects.filter(pk__in=[f.pk for f in findings[n : n + 3]]).update(group=made)
            Vote.objects.create(retro=retro, voter=owner, group=made)
            Vote.objects.create(retro=retro, voter=teammate, finding=findings[n + 4])

    retro.set_phase("vote")
    build(6)
    url = reverse("retros:finding_list", args=[retro.pk])
    from django.db import connection as conn
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(conn) as few:
        owner_client.get(url)
    build(54)
    with django_assert_max_num_queries(len(few)):
        response = owner_client.get(url)
    assert response.text.count('class="finding-group kind-') == 10
