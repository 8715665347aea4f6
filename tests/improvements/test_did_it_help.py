""" "Did it help?" on the dashboard and on a finished card: the same words, and people decide."""

import csv
import datetime
import io
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from improvements.models import Event, Improvement
from improvements.reporting.effect_statistics import compare
from tests.factories import DeploymentFactory, ImprovementFactory


def deployments(minutes: list[int], first: datetime.datetime, environment="production"):
    for n, value in enumerate(minutes):
        started = first + datetime.timedelta(hours=n)
        DeploymentFactory(
            started_at=started,
            finished_at=started + datetime.timedelta(minutes=value),
            environment=environment,
        )


BEFORE = [60 + n % 5 for n in range(12)]
AFTER = [30 + n % 5 for n in range(12)]
# What the rule says of these minutes (tests/improvements/test_effect_statistics.py checks
# the rule by hand); the pages must say exactly this. Ratios of minutes + 1: 32/62 = −48 %.
SENTENCE = escape(compare(BEFORE, AFTER).sentence())


@pytest.fixture
def helped(columns, unit):
    """A card done between twelve slow deployments and twelve fast ones."""
    done = timezone.now() - datetime.timedelta(days=2)
    deployments(BEFORE, done - datetime.timedelta(hours=13))
    deployments(AFTER, done + datetime.timedelta(minutes=1))
    return ImprovementFactory(
        title="Automate the smoke test",
        column=columns["Done"],
        done_at=done,
        unit=unit,
        expected_effect="Deployments shorter",
    )


def selected_verdict(html: str, pk: int) -> str:
    select = re.search(rf'<select name="verdict" id="{pk}"[^>]*>(.*?)</select>', html, re.S)
    assert select, "no verdict form"
    return re.search(r'<option value="(\w+)" selected>', select.group(1)).group(1)


def test_the_panel_says_it_with_its_uncertainty_and_what_it_does_not_mean(owner_client, helped):
    html = owner_client.get(reverse("reporting:dashboard_panel", args=["effects"])).content.decode()
    assert SENTENCE.startswith("likely helped: median 61.5 → 31.5 min (−48 %, 95 % CI −50 to")
    assert f'title="{SENTENCE}"' in html
    assert "likely helped</span>" in html
    assert "−48 %" in html and "−50 to −46 %" in html
    assert "cannot tell an effect from a trend that was already under way" in html
    # One card tested: 0.05 expected by chance.
    assert "among 1 card, about 0.1 may read “likely helped” by chance" in html
    assert "12 production deployments" in html


def test_the_suggestion_is_not_preselected_as_if_it_were_the_verdict(owner_client, helped):
    dashboard = owner_client.get(
        reverse("reporting:dashboard_panel", args=["effects"])
    ).content.decode()
    card = owner_client.get(helped.get_absolute_url()).content.decode()
    form_ids = {dashboard: f"verdict-{helped.pk}", card: "card-verdict"}
    for html, form_id in form_ids.items():
        assert selected_verdict(html.replace(form_id, str(helped.pk)), helped.pk) == "pending"
    helped.effect_verdict = Improvement.Verdict.REGRESSED
    helped.save(update_fields=["effect_verdict"])
    card = owner_client.get(helped.get_absolute_url()).content.decode()
    assert selected_verdict(card.replace("card-verdict", str(helped.pk)), helped.pk) == (
        "regressed"
    )


def test_the_suggestion_is_a_verdict_in_the_tests_own_words(owner_client, helped):
    # One vocabulary: the badge and the verdict form carry the verdict it suggests, the
    # words shown stay the test's hedged ones.
    dashboard = owner_client.get(
        reverse("reporting:dashboard_panel", args=["effects"])
    ).content.decode()
    card = owner_client.get(helped.get_absolute_url()).content.decode()
    for html in (dashboard, card):
        assert '<span class="badge suggestion-confirmed"' in html
        assert "likely helped</span>" in html
        assert '<input type="hidden" name="suggested" value="confirmed">' in html


def test_a_suggested_value_outside_the_verdicts_is_refused(owner_client, helped):
    response = owner_client.post(
        reverse("reporting:effect_verdict", args=[helped.pk]),
        {"verdict": "confirmed", "suggested": "likely_helped"},
    )
    assert response.status_code == 400
    assert not Event.objects.filter(improvement=helped, kind=Event.Kind.VERDICT).exists()


def test_the_card_shows_the_same_sentence_as_the_dashboard(owner_client, helped):
    html = owner_client.get(helped.get_absolute_url()).content.decode()
    assert '<h2 id="effect-heading">Did it help?</h2>' in html
    assert SENTENCE in html
    assert "What the suggestion means, and what it does not" in html
    assert "among 60 cards, about 3 may read “likely helped” by chance" in html


def test_the_card_and_panel_name_another_improvement_done_inside_its_window(
    owner_client, helped, columns
):
    other = ImprovementFactory(
        title="Drop the manual changelog",
        column=columns["Done"],
        done_at=helped.done_at + datetime.timedelta(hours=3),
    )
    link = f'href="{other.get_absolute_url()}">Drop the manual changelog</a>'
    html = owner_client.get(helped.get_absolute_url()).content.decode()
    assert "Also finished inside this window" in html
    assert link in html
    panel = owner_client.get(
        reverse("reporting:dashboard_panel", args=["effects"])
    ).content.decode()
    row = panel[panel.index(f'id="effect-{helped.pk}"') :]
    assert "1 other improvement done in this window: effects mixed in" in row
    assert link in row


def test_only_a_finished_card_has_the_section(owner_client, columns, unit):
    card = ImprovementFactory(column=columns["Next"], unit=unit, expected_effect="Faster")
    html = owner_client.get(card.get_absolute_url()).content.decode()
    assert "Did it help?" not in html


def test_a_card_with_no_deployments_says_too_little_data(owner_client, columns, unit):
    card = ImprovementFactory(column=columns["Done"], done_at=timezone.now(), unit=unit)
    html = owner_client.get(card.get_absolute_url()).content.decode()
    assert (
        "too little data: 0 deployments before and 0 after; at least 6 on each side are needed"
        in html
    )


def test_an_outsider_sees_the_suggestion_but_no_verdict_form(outsider, helped):
    client = Client()
    client.force_login(outsider)
    html = client.get(helped.get_absolute_url()).content.decode()
    assert SENTENCE in html
    assert reverse("reporting:effect_verdict", args=[helped.pk]) not in html


def test_setting_a_verdict_from_the_card_returns_to_the_card(owner_client, owner, helped):
    response = owner_client.post(
        reverse("reporting:effect_verdict", args=[helped.pk]),
        {"verdict": "unclear", "suggested": "confirmed", "next": helped.get_absolute_url()},
    )
    assert response.status_code == 302
    assert response["Location"] == helped.get_absolute_url()
    helped.refresh_from_db()
    assert helped.effect_verdict == Improvement.Verdict.UNCLEAR
    event = Event.objects.get(improvement=helped, kind=Event.Kind.VERDICT)
    assert event.data == {"verdict": "unclear", "previous": "pending", "suggested": "confirmed"}
    page = owner_client.get(helped.get_absolute_url()).content.decode()
    assert "verdict Can’t tell" in page
    assert "effect: Can’t tell" in page


def test_the_csv_carries_the_interval_and_the_p_value(owner_client, helped):
    response = owner_client.get(reverse("reporting:dashboard_csv", args=["effects"]))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    header = rows.index(next(r for r in rows if r and r[0] == "Card"))
    data = dict(zip(rows[header], rows[header + 1], strict=True))
    assert data["Environment"] == "production"
    assert data["Change (%)"] == "-47.7"  # 32/62 − 1
    assert (data["95 % CI low (%)"], data["95 % CI high (%)"]) == ("-50.0", "-45.9")
    assert data["Test"] == "normal approximation, widened for dependence"
    assert data["Suggestion"] == "likely helped"
    assert data["Verdict"] == "Pending"


def test_the_dashboard_compares_another_environment_when_asked(owner_client, helped):
    url = reverse("reporting:dashboard_panel", args=["effects"])
    staging = owner_client.get(url, {"environment": "staging"}).content.decode()
    assert "12 staging deployments" in staging
    assert "too little data</span>" in staging
    unknown = owner_client.get(url, {"environment": "moon"})
    assert unknown.status_code == 200
    assert "12 production deployments" in unknown.content.decode()


def test_a_finished_card_needs_the_same_queries_for_many_deployments_and_cards(
    owner_client, helped, columns, django_assert_max_num_queries
):
    url = helped.get_absolute_url()
    owner_client.get(url)
    with CaptureQueriesContext(connection) as few:
        owner_client.get(url)
    deployments([45] * 80, helped.done_at - datetime.timedelta(days=5))
    for n in range(5):
        ImprovementFactory(
            column=columns["Done"], done_at=helped.done_at + datetime.timedelta(hours=n)
        )
    with django_assert_max_num_queries(len(few)):
        response = owner_client.get(url)
    assert "Also finished inside this window" in response.content.decode()
