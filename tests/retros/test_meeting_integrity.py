"""After submit a retro's findings stay as triaged: nothing triaged disappears silently."""

import pytest
from django.urls import reverse

from improvements.models import Event
from improvements.operations import dismiss_finding
from retros.models import Finding, RetroRevision
from tests.factories import FindingFactory, ImprovementFactory, RetrospectiveFactory


@pytest.fixture
def retro(duty_week, owner):
    retro = RetrospectiveFactory(duty_week=duty_week, facilitator=owner)
    retro.submit()
    return retro


def test_a_linked_finding_cannot_be_removed_until_its_triage_is_undone(owner_client, owner, retro):
    finding = FindingFactory(retro=retro)
    card = ImprovementFactory()
    card.link_finding(finding, owner)

    refused = owner_client.post(reverse("retros:finding_delete", args=[finding.pk]))
    refused_htmx = owner_client.post(
        reverse("retros:finding_delete", args=[finding.pk]), HTTP_HX_REQUEST="true"
    )

    assert refused.status_code == 302 and refused_htmx.status_code == 409
    assert "undo its triage first" in refused_htmx.text
    assert Finding.objects.filter(pk=finding.pk).exists()
    assert card.finding_links.count() == 1

    owner_client.post(reverse("triage:finding_reopen", args=[finding.pk]))
    owner_client.post(reverse("retros:finding_delete", args=[finding.pk]))

    assert not Finding.objects.filter(pk=finding.pk).exists()
    assert card.events.filter(kind=Event.Kind.UNLINKED).count() == 1


def test_a_finding_closed_without_action_is_kept_too(owner_client, retro):
    finding = FindingFactory(retro=retro)
    dismiss_finding(finding, "Not ours")

    owner_client.post(reverse("retros:finding_delete", args=[finding.pk]))

    assert Finding.objects.filter(pk=finding.pk).exists()


def test_a_triaged_finding_shows_no_remove_button(owner_client, owner, retro):
    finding = FindingFactory(retro=retro, text="Linked one")
    ImprovementFactory().link_finding(finding, owner)

    page = owner_client.get(reverse("retros:retro_detail", args=[retro.pk])).text

    assert "Remove finding: Linked one" not in page


@pytest.mark.parametrize("who", ["teammate", "outsider"])
def test_after_submit_only_the_facilitator_and_staff_change_findings(client, request, retro, who):
    finding = FindingFactory(retro=retro, text="Kept")
    client.force_login(request.getfixturevalue(who))

    responses = [
        client.post(
            reverse("retros:finding_edit", args=[finding.pk]), {"kind": "pain", "text": "x"}
        ),
        client.post(reverse("retros:finding_delete", args=[finding.pk])),
        client.post(reverse("retros:finding_add", args=[retro.pk]), {"kind": "pain", "text": "x"}),
    ]

    assert [r.status_code for r in responses] == [403, 403, 403]
    assert list(Finding.objects.values_list("text", flat=True)) == ["Kept"]


def test_staff_edit_a_submitted_retros_finding_and_it_is_recorded(client, staff, retro):
    finding = FindingFactory(retro=retro, text="Before")
    client.force_login(staff)

    client.post(
        reverse("retros:finding_edit", args=[finding.pk]), {"kind": "pain", "text": "After"}
    )

    changes = RetroRevision.objects.get().changes
    assert changes == {f"finding {finding.pk} text": ["Before", "After"]}
