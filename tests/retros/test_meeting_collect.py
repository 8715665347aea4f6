"""Collecting findings in the meeting: columns by kind, quick inputs, private writing."""

import pytest
from django.urls import reverse

from retros.models import Finding, Retrospective
from tests.factories import FindingFactory, RetrospectiveFactory


@pytest.fixture
def retro(duty_week, owner):
    return RetrospectiveFactory(duty_week=duty_week, facilitator=owner)


def test_findings_stand_in_one_column_per_kind_each_with_its_own_input(owner_client, retro):
    FindingFactory(retro=retro, kind="well", text="Rollback was quick")
    FindingFactory(retro=retro, kind="pain", text="QA sign-off took 40 minutes")

    page = owner_client.get(reverse("retros:retro_detail", args=[retro.pk])).text

    well_column = page.split('id="findings-well"')[1].split("</ul>")[0]
    pain_column = page.split('id="findings-pain"')[1].split("</ul>")[0]
    assert "Rollback was quick" in well_column and "QA sign-off" not in well_column
    assert "QA sign-off took 40 minutes" in pain_column
    for kind in Finding.Kind.values:
        assert f'id="quick-{kind}"' in page
        assert f'<input type="hidden" name="kind" value="{kind}">' in page


def test_a_finding_shows_its_author(owner_client, retro, teammate):
    teammate.first_name, teammate.last_name = "Tess", "Mate"
    teammate.save()
    FindingFactory(retro=retro, author=teammate, text="Hotfix rules unclear")

    page = owner_client.get(reverse("retros:retro_detail", args=[retro.pk])).text

    item = page.split("Hotfix rules unclear")[1].split("</li>")[0]
    assert "Tess Mate" in item


def test_without_javascript_a_quick_input_posts_and_comes_back_to_its_column(owner_client, retro):
    response = owner_client.post(
        reverse("retros:finding_add", args=[retro.pk]),
        {"kind": "question", "text": "Who approves?"},
    )

    assert response.status_code == 302
    assert response["Location"].endswith("#quick-question")
    assert Finding.objects.get().kind == "question"


def test_a_finding_raised_elsewhere_names_where_it_came_from():
    finding = Finding(kind="pain", text="Step 4 blocked")
    assert finding.source == ""

    finding.run_id = 12  # set by the deployment runs feature for notes made during a run

    assert finding.source == "deployment run #12"


def hide(client, retro, hidden="1"):
    return client.post(reverse("retros:retro_privacy", args=[retro.pk]), {"hidden": hidden})


def test_private_writing_hides_others_findings_from_the_page_and_the_poll(
    owner_client, client, owner, teammate, retro
):
    FindingFactory(retro=retro, author=owner, text="Owner secret pain")
    FindingFactory(retro=retro, author=teammate, text="Teammate own idea")
    assert hide(owner_client, retro).status_code == 302
    client.force_login(teammate)

    page = client.get(reverse("retros:retro_detail", args=[retro.pk])).text
    poll = client.get(reverse("retros:finding_list", args=[retro.pk])).text
    markdown = client.get(reverse("retros:retro_markdown", args=[retro.pk]), {"format": "md"}).text

    for seen in (page, poll, markdown):
        assert "Owner secret pain" not in seen
        assert "Teammate own idea" in seen
    assert "1 finding by others stays hidden" in page


def test_revealing_shows_everyone_everything(owner_client, client, owner, teammate, retro):
    FindingFactory(retro=retro, author=owner, text="Owner secret pain")
    hide(owner_client, retro)

    hide(owner_client, retro, hidden="0")

    client.force_login(teammate)
    assert "Owner secret pain" in client.get(reverse("retros:retro_detail", args=[retro.pk])).text


def test_moving_on_to_grouping_reveals_what_was_written_privately(owner_client, retro):
    hide(owner_client, retro)

    owner_client.post(reverse("retros:retro_phase", args=[retro.pk]), {"phase": "group"})

    retro.refresh_from_db()
    assert (retro.phase, retro.findings_hidden) == ("group", False)


def test_a_hidden_finding_cannot_be_edited_or_removed_by_someone_else(
    owner_client, client, owner, teammate, retro
):
    secret = FindingFactory(retro=retro, author=owner, text="Secret")
    hide(owner_client, retro)
    client.force_login(teammate)

    edit = client.post(
        reverse("retros:finding_edit", args=[secret.pk]), {"kind": "pain", "text": "x"}
    )
    remove = client.post(reverse("retros:finding_delete", args=[secret.pk]))

    assert (edit.status_code, remove.status_code) == (403, 403)
    secret.refresh_from_db()
    assert secret.text == "Secret"


@pytest.mark.parametrize(("who", "allowed"), [("owner", True), ("staff", True)])
def test_the_facilitator_and_staff_hide_findings(client, request, retro, who, allowed):
    client.force_login(request.getfixturevalue(who))

    response = hide(client, retro)

    assert response.status_code == 302
    assert Retrospective.objects.get(pk=retro.pk).findings_hidden is allowed


@pytest.mark.parametrize("who", ["teammate", "outsider"])
def test_others_may_not_hide_findings_or_move_the_meeting_on(client, request, retro, who):
    client.force_login(request.getfixturevalue(who))

    responses = [
        hide(client, retro),
        client.post(reverse("retros:retro_phase", args=[retro.pk]), {"phase": "vote"}),
        client.post(
            reverse("retros:retro_vote_budget", args=[retro.pk]), {"votes_per_person": "9"}
        ),
    ]

    assert [response.status_code for response in responses] == [403, 403, 403]
    retro.refresh_from_db()
    assert (retro.findings_hidden, retro.phase, retro.votes_per_person) == (False, "collect", 3)


def test_findings_can_only_be_hidden_while_collecting(owner_client, retro):
    retro.set_phase("vote")

    hide(owner_client, retro)

    assert not Retrospective.objects.get(pk=retro.pk).findings_hidden


def test_a_search_of_retro_history_does_not_reveal_private_findings(
    owner_client, client, owner, teammate, retro
):
    FindingFactory(retro=retro, author=owner, text="Private flaky thing")
    hide(owner_client, retro)
    client.force_login(teammate)

    page = client.get(reverse("retros:retro_list"), {"q": "flaky"}).text

    assert "Private flaky thing" not in page


def test_changing_a_findings_kind_reloads_the_page_to_show_it_in_its_new_column(
    owner_client, retro
):
    finding = FindingFactory(retro=retro, kind="pain", text="Slow")

    same = owner_client.post(
        reverse("retros:finding_edit", args=[finding.pk]),
        {"kind": "pain", "text": "Slower"},
        HTTP_HX_REQUEST="true",
    )
    moved = owner_client.post(
        reverse("retros:finding_edit", args=[finding.pk]),
        {"kind": "idea", "text": "Slower"},
        HTTP_HX_REQUEST="true",
    )

    assert "HX-Refresh" not in same and moved["HX-Refresh"] == "true"
    assert Finding.objects.get().kind == "idea"
