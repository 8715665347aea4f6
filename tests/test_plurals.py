"""Counts of one read in the singular: "1 restart", "1 card", never "1 restarts".

A world where every count the pages print is exactly one: one deployment with one restart,
one card done, one manual step, a group holding one finding. Found by hand on the retro page
("1 restarts") and the dashboard headline ("1 cards", "1 steps").
"""

import datetime
import re

import pytest
from django.utils import timezone

from improvements.reporting.panels import PANELS
from retros.models import Finding, FindingGroup, ProcessStep, Retrospective
from tests.factories import (
    DeploymentFactory,
    FindingFactory,
    ImprovementFactory,
    ProcessStepFactory,
    RetrospectiveFactory,
)

PLURAL_AFTER_ONE = re.compile(
    r"(?<![\d.,])1 (deployments|restarts|cards|steps|findings|votes|comments|weeks)\b"
)


def visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def one_of_everything(duty_week, columns, owner):
    retro = RetrospectiveFactory(duty_week=duty_week, status=Retrospective.Status.SUBMITTED)
    DeploymentFactory(
        duty_week=duty_week, started_at=timezone.now() - datetime.timedelta(hours=3), restarts=1
    )
    ImprovementFactory(column=columns["Done"], done_at=timezone.now() - datetime.timedelta(days=1))
    ProcessStepFactory(mode=ProcessStep.Mode.MANUAL)
    group = FindingGroup.objects.create(retro=retro, title="One alone")
    FindingFactory(retro=retro, kind=Finding.Kind.PAIN, author=owner, group=group)
    return retro


def test_pages_say_one_thing_in_the_singular(client, owner, one_of_everything):
    client.force_login(owner)
    retro = one_of_everything
    paths = [f"/retros/{retro.pk}/", f"/retros/{retro.pk}/triage/", "/dashboard/"]
    paths += [f"/dashboard/panel/{name}/" for name in PANELS]
    wrong = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        found = PLURAL_AFTER_ONE.findall(visible_text(response.content.decode()))
        if found:
            wrong[path] = found
    assert len(paths) > 10
    assert not wrong, f"Plural after one: {wrong}"
