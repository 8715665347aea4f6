"""People are named by their names on every page, never by their login.

A sweep over the demo data with every username made unlike the person's name: a page that
prints `{{ user }}` (which is the username) instead of the `person` filter shows the login.
Found by hand: the retro's facilitator line, its deployments' deployer column and the triage
owner select showed logins while the rest of the app showed names.
"""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat

from improvements.models import Improvement
from retros.models import Deployment, Finding, Retrospective

LOGIN = re.compile(r"login-\d+")
# A person select may add the login in brackets to tell two people of the same name apart.
DISAMBIGUATION = re.compile(r"\(login-\d+\)")


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.fixture
def demo_with_logins(db):
    call_command("seed_demo", force=True, stdout=io.StringIO())
    User = get_user_model()
    User.objects.update(username=Concat(Value("login-"), Cast("pk", output_field=CharField())))
    demo = User.objects.get(first_name="Demo")
    # A finding left untriaged, so the triage page shows its owner select.
    retro = Retrospective.objects.filter(status="submitted").order_by("-duty_week__week_start")[0]
    Finding.objects.create(retro=retro, kind=Finding.Kind.PAIN, text="Untriaged", author=demo)
    return demo


def pages() -> list[str]:
    paths = ["/board/", "/retros/", "/deployments/", "/process/", "/units/", "/rotation/"]
    paths += ["/updates/", "/dashboard/", "/process/pending/", "/board/columns/"]
    for retro in Retrospective.objects.all():
        paths += [f"/retros/{retro.pk}/", f"/retros/{retro.pk}/triage/"]
        paths.append(f"/retros/{retro.pk}/markdown/")
    for card in Improvement.objects.order_by("pk")[:10]:
        paths.append(f"/improvements/{card.pk}/")
    for deployment in Deployment.objects.order_by("-started_at")[:5]:
        paths.append(f"/deployments/{deployment.pk}/")
    # Unit pages are left out: the member list shows each login beside the name on purpose.
    return paths


def test_no_page_names_a_person_by_their_login(client, demo_with_logins):
    client.force_login(demo_with_logins)
    paths = pages()
    shown = {}
    for path in paths:
        response = client.get(path, follow=True)
        assert response.status_code == 200, path
        text = DISAMBIGUATION.sub("", visible_text(response.content.decode()))
        found = LOGIN.findall(text)
        if found:
            shown[path] = sorted(set(found))[:5]
    assert len(paths) >= 50
    assert not shown, f"Logins shown instead of names: {shown}"
