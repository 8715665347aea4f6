"""Triage as the meeting's last step: similar cards, done cards reopened, groups as one,
and undo that always leaves a trace on the card."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from improvements.models import Column, Event, FindingLink, Improvement
from improvements.triage import similar
from retros.models import Finding, FindingGroup, Vote
from tests.factories import FindingFactory, ImprovementFactory, RetrospectiveFactory


@pytest.fixture
def retro(duty_week, owner):
    retro = RetrospectiveFactory(duty_week=duty_week, facilitator=owner)
    retro.submit()
    return retro


def done_card(title: str, **fields) -> Improvement:
    done = Column.objects.get(state=Column.State.DONE)
    return ImprovementFactory(
        title=title, column=done, done_at=timezone.now() - datetime.timedelta(days=10), **fields
    )


CARDS = [
    "Automate the production smoke test",
    "Waited 40 minutes for QA sign-off",
    "Write the deployment runbook",
    "Release toggle for the checkout page",
]


def test_similar_cards_rank_the_closest_title_first(db):
    for title in CARDS:
        ImprovementFactory(title=title)

    [suggestions] = similar.similar_improvements(["Waited 40 minutes for the QA sign-off"])

    assert [card.title for card in suggestions][:1] == ["Waited 40 minutes for QA sign-off"]
    assert suggestions[0].similarity >= similar.LIKELY_SAME
    assert "Write the deployment runbook" not in [card.title for card in suggestions]


def test_similar_cards_for_several_texts_come_in_one_answer_each(db):
    for title in CARDS:
        ImprovementFactory(title=title)

    rows = similar.similar_improvements(
        ["Smoke test of production by hand", "Nothing alike at all, zebra"]
    )

    assert rows[0][0].title == "Automate the production smoke test"
    assert rows[1] == []


def test_the_word_overlap_fallback_ranks_the_same_way(db):
    cards = {title: ImprovementFactory(title=title) for title in CARDS}
    open_ids = list(Column.objects.exclude(state="done").values_list("pk", flat=True))
    cutoff = timezone.now() - similar.RECENTLY_DONE

    ranked = similar._ranked_by_words(
        ["Waited 40 minutes for QA sign-off again", "zebra"], 3, open_ids, [], cutoff
    )

    assert ranked[0][0][0] == cards["Waited 40 minutes for QA sign-off"].pk
    assert ranked[1] == []


def test_dropped_archived_and_long_done_cards_are_not_suggested(db):
    dropped = Column.objects.create(name="Dropped", position=99, state=Column.State.DROPPED)
    ImprovementFactory(title="Automate the smoke test", column=dropped)
    ImprovementFactory(title="Automate the smoke test", archived_at=timezone.now())
    done = Column.objects.get(state=Column.State.DONE)
    long_ago = timezone.now() - datetime.timedelta(weeks=60)
    ImprovementFactory(title="Automate the smoke test", column=done, done_at=long_ago)
    recent = done_card("Automate the smoke test")

    [suggestions] = similar.similar_improvements(["Automate the smoke test"])

    assert [card.pk for card in suggestions] == [recent.pk]


def test_a_pain_that_is_already_a_card_is_offered_to_join_it(owner_client, retro):
    card = ImprovementFactory(title="Waited 40 minutes for QA sign-off")
    pain = FindingFactory(retro=retro, text="Waited 40 minutes for QA sign-off")

    page = owner_client.get(reverse("triage:retro_triage", args=[retro.pk])).text

    row = page.split(f'id="triage-f{pain.pk}"')[1].split("</li>")[0]
    assert 'value="link" checked' in row
    assert f'<option value="{card.pk}" selected>' in row


def test_a_done_card_is_marked_and_linking_it_asks_whether_to_reopen(owner_client, retro):
    card = done_card("Automate the production smoke test")
    pain = FindingFactory(retro=retro, text="Production smoke test by hand again")

    page = owner_client.get(reverse("triage:retro_triage", args=[retro.pk])).text
    asked = owner_client.post(
        reverse("triage:finding_link", args=[pain.pk]), {"improvement": card.pk}
    )

    assert f'<option value="{card.pk}" data-done' in page and "✓ done" in page
    assert asked.status_code == 400
    assert "is done. Reopen it" in asked.text
    assert not FindingLink.objects.exists()


def test_linking_a_done_card_and_reopening_it_moves_it_back_and_says_so(owner_client, owner, retro):
    card = done_card("Automate the production smoke test")
    pain = FindingFactory(retro=retro, text="Production smoke test by hand again")

    response = owner_client.post(
        reverse("triage:finding_link", args=[pain.pk]), {"improvement": card.pk, "reopen": "yes"}
    )

    card.refresh_from_db()
    assert response.status_code == 302
    assert card.column.state == Column.State.ACTIVE and card.done_at is None
    kinds = list(card.events.values_list("kind", flat=True))
    assert kinds[-3:] == ["linked", "moved", "reopened"]
    reopened = card.events.get(kind="reopened")
    assert (reopened.actor, reopened.data["finding"]) == (owner, pain.pk)


def test_linking_a_done_card_and_keeping_it_done_leaves_it_where_it_is(owner_client, retro):
    card = done_card("Automate the production smoke test")
    pain = FindingFactory(retro=retro, text="Production smoke test by hand again")

    owner_client.post(
        reverse("triage:finding_link", args=[pain.pk]), {"improvement": card.pk, "reopen": "no"}
    )

    card.refresh_from_db()
    assert card.column.state == Column.State.DONE
    assert not card.events.filter(kind="reopened").exists()
    assert FindingLink.objects.get().improvement == card


def test_the_search_without_words_suggests_similar_cards_and_marks_done_ones(owner_client, retro):
    done_card("Automate the production smoke test")
    pain = FindingFactory(retro=retro, text="Production smoke test by hand")

    page = owner_client.get(reverse("triage:improvement_search"), {"finding": pain.pk}).text

    assert "Most similar to" in page
    assert "Link and reopen “Automate the production smoke test”" in page
    assert "Link, keep it done" in page


def grouped(retro, *texts):
    findings = [FindingFactory(retro=retro, kind="pain", text=text) for text in texts]
    group = FindingGroup.objects.create(retro=retro, title="Smoke tests by hand")
    Finding.objects.filter(pk__in=[f.pk for f in findings]).update(group=group)
    return group, findings


def test_a_group_is_one_row_and_becomes_one_card_for_all_its_findings(owner_client, retro):
    group, findings = grouped(retro, "Smoke test by hand", "Nobody knew which pages to check")
    from improvements.models import Category

    page = owner_client.get(reverse("triage:retro_triage", args=[retro.pk])).text
    response = owner_client.post(
        reverse("triage:group_promote", args=[group.pk]),
        {"title": "Automate smoke tests", "category": Category.objects.first().pk},
    )

    assert page.count('class="triage-row') == 1 and "2 findings" in page
    assert response.status_code == 302
    card = Improvement.objects.get()
    assert card.finding_links.count() == 2
    assert "Nobody knew which pages" in card.description
    assert set(Finding.objects.values_list("outcome", flat=True)) == {"improvement"}


def test_a_group_closed_without_action_closes_each_finding(owner_client, retro):
    group, findings = grouped(retro, "One", "Two")

    owner_client.post(
        reverse("triage:group_no_action", args=[group.pk]), {"reason": "Vendor fixes it"}
    )

    assert set(Finding.objects.values_list("outcome", "no_action_reason")) == {
        ("no_action", "Vendor fixes it")
    }


def test_triage_lists_by_votes_then_pains_before_ideas(owner_client, retro, owner):
    idea = FindingFactory(retro=retro, kind="idea", text="An idea")
    pain = FindingFactory(retro=retro, kind="pain", text="A pain")
    voted = FindingFactory(retro=retro, kind="idea", text="A voted idea")
    Vote.objects.create(retro=retro, voter=owner, finding=voted)

    page = owner_client.get(reverse("triage:retro_triage", args=[retro.pk])).text

    order = [page.index(f'id="triage-f{f.pk}"') for f in (voted, pain, idea)]
    assert order == sorted(order)


def test_undoing_a_link_writes_an_unlink_event_so_history_and_recurrence_agree(
    owner_client, owner, retro
):
    card = ImprovementFactory()
    pain = FindingFactory(retro=retro)
    owner_client.post(reverse("triage:finding_link", args=[pain.pk]), {"improvement": card.pk})

    owner_client.post(reverse("triage:finding_reopen", args=[pain.pk]))

    unlinked = card.events.get(kind=Event.Kind.UNLINKED)
    assert (unlinked.actor, unlinked.data) == (owner, {"finding": pain.pk, "retro": retro.pk})
    assert Improvement.objects.with_recurrence().get(pk=card.pk).recurrence == 0
    linked = card.events.filter(kind="linked").count()
    assert linked - card.events.filter(kind="unlinked").count() == card.finding_links.count()


def test_undoing_a_group_unlinks_every_finding_with_an_event_each(owner_client, retro):
    group, findings = grouped(retro, "One", "Two")
    card = ImprovementFactory()
    owner_client.post(reverse("triage:group_link", args=[group.pk]), {"improvement": card.pk})

    owner_client.post(reverse("triage:group_reopen", args=[group.pk]))

    assert card.events.filter(kind="unlinked").count() == 2
    assert set(Finding.objects.values_list("outcome", flat=True)) == {"pending"}


def test_unlink_finding_is_the_one_way_a_link_goes(owner, retro):
    card = ImprovementFactory()
    finding = FindingFactory(retro=retro)
    card.link_finding(finding, owner)

    assert card.unlink_finding(finding, owner) is True
    assert card.unlink_finding(finding, owner) is False

    assert card.events.filter(kind="unlinked").count() == 1


@pytest.mark.parametrize("who", ["outsider"])
def test_an_outsider_may_not_triage_a_group(client, request, retro, who):
    group, findings = grouped(retro, "One", "Two")
    client.force_login(request.getfixturevalue(who))

    responses = [
        client.post(reverse("triage:group_no_action", args=[group.pk]), {"reason": "x"}),
        client.post(reverse("triage:group_reopen", args=[group.pk])),
        client.post(reverse("triage:group_link", args=[group.pk]), {"improvement": 1}),
        client.post(reverse("triage:group_promote", args=[group.pk]), {"title": "x"}),
    ]

    assert [r.status_code for r in responses] == [403, 403, 403, 403]
    assert set(Finding.objects.values_list("outcome", flat=True)) == {"pending"}


def test_a_grouped_finding_is_triaged_with_its_group_not_alone(owner_client, retro):
    group, findings = grouped(retro, "One", "Two")

    response = owner_client.post(
        reverse("triage:finding_no_action", args=[findings[0].pk]), {"reason": "x"}
    )

    assert response.status_code == 403
    assert set(Finding.objects.values_list("outcome", flat=True)) == {"pending"}


def test_a_group_with_one_finding_triaged_earlier_triages_the_rest(owner_client, retro):
    group, findings = grouped(retro, "One", "Two")
    Finding.objects.filter(pk=findings[0].pk).update(outcome="no_action", no_action_reason="old")

    owner_client.post(reverse("triage:group_no_action", args=[group.pk]), {"reason": "Vendor"})

    assert dict(Finding.objects.values_list("text", "no_action_reason")) == {
        "One": "old",
        "Two": "Vendor",
    }


def test_a_link_deleted_any_other_way_still_leaves_an_event(owner, retro):
    card = ImprovementFactory()
    finding = FindingFactory(retro=retro)
    card.link_finding(finding, owner)

    FindingLink.objects.filter(finding=finding).delete()  # as the admin's bulk delete does

    event = card.events.get(kind=Event.Kind.UNLINKED)
    assert (event.actor, event.data) == (None, {"finding": finding.pk, "retro": retro.pk})


def test_a_card_deleted_with_its_links_goes_without_a_trace(owner, retro):
    card, other = ImprovementFactory(), ImprovementFactory()
    card.link_finding(FindingFactory(retro=retro), owner)
    other.link_finding(FindingFactory(retro=retro), owner)

    card.delete()
    Improvement.objects.filter(pk=other.pk).delete()

    assert not Event.objects.filter(kind=Event.Kind.UNLINKED).exists()
    assert Finding.objects.count() == 2


def test_the_join_search_of_a_group_answers_with_choices_for_its_row(owner_client, retro):
    group, findings = grouped(retro, "Smoke test by hand", "Smoke again")
    done_card("Automate the smoke test")

    response = owner_client.get(
        reverse("triage:improvement_search"),
        {"group": group.pk, "pick": "1", "q": "smoke"},
        HTTP_HX_REQUEST="true",
    )

    assert f'<select name="improvement" id="pick-g{group.pk}">' in response.text
    assert "data-done" in response.text and "✓ done · Automate the smoke test" in response.text
    assert "<html" not in response.text
