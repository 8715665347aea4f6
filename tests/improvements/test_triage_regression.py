"""A finding already linked to a card cannot be promoted again, whatever its stored outcome."""

from improvements.models import FindingLink, Improvement
from tests.factories import FindingFactory, ImprovementFactory, RetrospectiveFactory


def test_promoting_a_finding_that_already_has_a_link_is_refused_not_a_crash(
    owner_client, duty_week
):
    retro = RetrospectiveFactory(duty_week=duty_week, status="submitted")
    finding = FindingFactory(retro=retro)
    FindingLink.objects.create(finding=finding, improvement=ImprovementFactory())
    # Data from before links marked their findings: linked, yet still "pending".
    type(finding).objects.filter(pk=finding.pk).update(outcome="pending")
    category = ImprovementFactory._meta.model.objects.first().category
    response = owner_client.post(
        f"/findings/{finding.pk}/promote/", {"title": "Again", "category": category.pk}
    )
    assert response.status_code == 302
    assert Improvement.objects.count() == 1
    assert FindingLink.objects.filter(finding=finding).count() == 1


def test_a_link_made_outside_triage_marks_its_finding_as_triaged(duty_week):
    # The admin's inline makes links directly; the finding must not stay "not triaged".
    finding = FindingFactory(retro=RetrospectiveFactory(duty_week=duty_week))
    FindingLink.objects.create(finding=finding, improvement=ImprovementFactory())
    finding.refresh_from_db()
    assert finding.outcome == "improvement"
