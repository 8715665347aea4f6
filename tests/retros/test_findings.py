"""Findings: added, edited and removed inline, saved as typed, seen by other attendees."""

import pytest
from django.test import Client
from django.urls import reverse

from retros.models import Finding, RetroRevision
from tests.factories import FindingFactory, RetrospectiveFactory


@pytest.fixture
def retro(duty_week, owner):
    return RetrospectiveFactory(duty_week=duty_week, facilitator=owner)


def edit_inline(client, finding, **fields):
    """Save an edit the way the retro page's htmx does, then reload the finding."""
    url = reverse("retros:finding_edit", args=[finding.pk])
    response = client.post(url, fields, HTTP_HX_REQUEST="true")
    finding.refresh_from_db()
    return response


def test_a_finding_added_with_htmx_comes_back_as_an_editable_item_only(owner_client, owner, retro):
    response = owner_client.post(
        reverse("retros:finding_add", args=[retro.pk]),
        {"kind": "pain", "text": "Smoke tests are manual"},
        HTTP_HX_REQUEST="true",
    )

    finding = Finding.objects.get()
    assert (finding.author, finding.kind, finding.text) == (owner, "pain", "Smoke tests are manual")
    assert f'id="finding-{finding.pk}"' in response.text
    assert "Smoke tests are manual</textarea>" in response.text
    # The quick input it came from is not replaced, so the focus stays in it.
    assert "quick-add" not in response.text and "hx-swap-oob" not in response.text


def test_an_empty_finding_is_refused_in_the_column_it_was_typed_in(owner_client, retro):
    response = owner_client.post(
        reverse("retros:finding_add", args=[retro.pk]), {"kind": "idea", "text": "   "}
    )

    assert response.status_code == 400
    idea_error = response.text.split('id="quick-error-idea"')[1].split("</span>")[0]
    assert "This field is required." in idea_error or "Write what you found." in idea_error
    assert 'id="quick-idea"' in response.text
    assert not Finding.objects.exists()


def test_an_empty_finding_via_htmx_retargets_the_message_under_its_input(owner_client, retro):
    response = owner_client.post(
        reverse("retros:finding_add", args=[retro.pk]),
        {"kind": "idea", "text": ""},
        HTTP_HX_REQUEST="true",
    )

    assert response["HX-Retarget"] == "#quick-error-idea"
    assert "This field is required." in response.text
    assert not Finding.objects.exists()


def test_editing_saves_as_typed(owner_client, retro):
    finding = FindingFactory(retro=retro, text="Deploy took ages")

    response = edit_inline(owner_client, finding, kind="idea", text="Deploy took ages; script it")

    assert response.text.startswith("Saved")
    assert (finding.kind, finding.text) == ("idea", "Deploy took ages; script it")
    assert not RetroRevision.objects.exists()


def test_editing_to_empty_text_is_not_saved_and_says_why(owner_client, retro):
    finding = FindingFactory(retro=retro, text="Keep me")

    response = edit_inline(owner_client, finding, kind="pain", text="")

    assert response.text.startswith("Not saved")
    assert finding.text == "Keep me"


def test_without_javascript_a_bad_edit_re_renders_the_page_with_the_input(owner_client, retro):
    finding = FindingFactory(retro=retro, text="Keep me")

    response = owner_client.post(
        reverse("retros:finding_edit", args=[finding.pk]), {"kind": "question", "text": ""}
    )

    assert response.status_code == 400
    assert "Not saved: This field is required." in response.text
    assert '<option value="question" selected>' in response.text


def test_removing_a_finding(owner_client, retro):
    finding = FindingFactory(retro=retro)

    response = owner_client.post(
        reverse("retros:finding_delete", args=[finding.pk]), HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert not Finding.objects.exists()


@pytest.mark.parametrize("who", ["outsider"])
def test_an_outsider_cannot_add_edit_or_remove_findings(client, request, retro, who):
    client.force_login(request.getfixturevalue(who))
    finding = FindingFactory(retro=retro, text="Original")

    add = client.post(reverse("retros:finding_add", args=[retro.pk]), {"kind": "pain", "text": "x"})
    edit = client.post(
        reverse("retros:finding_edit", args=[finding.pk]), {"kind": "pain", "text": "y"}
    )
    remove = client.post(reverse("retros:finding_delete", args=[finding.pk]))

    assert (add.status_code, edit.status_code, remove.status_code) == (403, 403, 403)
    assert list(Finding.objects.values_list("text", flat=True)) == ["Original"]


def test_a_teammate_edits_the_owners_finding(client, teammate, owner, retro):
    finding = FindingFactory(retro=retro, author=owner, text="Mine")
    client.force_login(teammate)

    client.post(reverse("retros:finding_edit", args=[finding.pk]), {"kind": "pain", "text": "Ours"})

    finding.refresh_from_db()
    assert finding.text == "Ours"


def test_after_submit_only_the_facilitator_changes_findings_and_it_is_recorded(
    client, owner, teammate, retro
):
    finding = FindingFactory(retro=retro, text="Before")
    retro.submit()
    client.force_login(teammate)
    assert (
        client.post(
            reverse("retros:finding_edit", args=[finding.pk]), {"kind": "pain", "text": "x"}
        ).status_code
        == 403
    )

    client.force_login(owner)
    client.post(
        reverse("retros:finding_edit", args=[finding.pk]), {"kind": "pain", "text": "After"}
    )

    revision = RetroRevision.objects.get()
    assert revision.changes == {f"finding {finding.pk} text": ["Before", "After"]}


def test_two_attendees_adding_at_once_each_see_the_others_finding(owner, teammate, retro):
    first, second = Client(), Client()
    first.force_login(owner)
    second.force_login(teammate)
    list_url = reverse("retros:finding_list", args=[retro.pk])
    seen = first.get(list_url, HTTP_HX_REQUEST="true")
    etag = seen["ETag"]

    first.post(
        reverse("retros:finding_add", args=[retro.pk]), {"kind": "pain", "text": "From owner"}
    )
    second.post(
        reverse("retros:finding_add", args=[retro.pk]), {"kind": "idea", "text": "From teammate"}
    )

    again = first.get(list_url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200
    assert "From owner" in again.text and "From teammate" in again.text
    assert Finding.objects.count() == 2
    assert second.get(list_url).text.count('class="finding ') == 2
    assert 'id="findings-pain"' in again.text and 'id="findings-idea"' in again.text


def test_polling_an_unchanged_list_costs_a_304_and_one_query(
    owner_client, retro, django_assert_max_num_queries
):
    FindingFactory(retro=retro)
    url = reverse("retros:finding_list", args=[retro.pk])
    etag = owner_client.get(url)["ETag"]

    with django_assert_max_num_queries(6):
        response = owner_client.get(url, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert response["ETag"] == etag


def test_an_edit_by_someone_else_changes_the_etag(owner_client, client, teammate, retro):
    finding = FindingFactory(retro=retro, text="One")
    url = reverse("retros:finding_list", args=[retro.pk])
    etag = owner_client.get(url)["ETag"]
    client.force_login(teammate)

    client.post(reverse("retros:finding_edit", args=[finding.pk]), {"kind": "pain", "text": "Two"})

    response = owner_client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert "Two</textarea>" in response.text
