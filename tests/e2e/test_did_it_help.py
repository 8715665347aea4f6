""" "Did it help?" on a finished card in a real browser: read the suggestion, then decide."""

import datetime

from django.utils import timezone
from playwright.sync_api import expect

from improvements.models import Event, Improvement
from tests.factories import DeploymentFactory, ImprovementFactory

from .conftest import PHONE


def test_a_unit_member_reads_the_suggestion_and_sets_the_verdict_by_keyboard(
    open_page, owner, unit, columns
):
    done = timezone.now() - datetime.timedelta(days=2)
    for n in range(12):
        for offset, minutes in ((-13 + n, 60 + n % 5), (n + 1, 30 + n % 5)):
            started = done + datetime.timedelta(hours=offset)
            DeploymentFactory(
                started_at=started, finished_at=started + datetime.timedelta(minutes=minutes)
            )
    card = ImprovementFactory(
        title="Automate the smoke test",
        column=columns["Done"],
        done_at=done,
        unit=unit,
        expected_effect="Deployments shorter",
    )

    page = open_page(owner)
    page.goto(card.get_absolute_url())
    section = page.get_by_role("region", name="Did it help?")
    expect(section).to_contain_text("likely helped: median 61.5 → 31.5 min (−48 %, 95 % CI")
    # The suggestion is not the verdict: the form shows what people decided so far.
    expect(section.get_by_label("Verdict")).to_have_value("pending")
    section.get_by_text("What the suggestion means, and what it does not").click()
    expect(section).to_contain_text("cannot tell an effect from a trend")

    section.get_by_label("Verdict").focus()
    section.get_by_label("Verdict").select_option("confirmed")
    page.keyboard.press("Tab")
    expect(section.get_by_role("button", name="Set verdict")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".messages")).to_contain_text("verdict Helped")
    expect(page.get_by_text("effect: Helped")).to_be_visible()
    card.refresh_from_db()
    assert card.effect_verdict == Improvement.Verdict.CONFIRMED
    assert Event.objects.get(improvement=card, kind="verdict").data["suggested"] == (
        Improvement.Verdict.CONFIRMED
    )

    phone = open_page(owner, viewport=PHONE)
    phone.goto(card.get_absolute_url())
    expect(phone.get_by_role("region", name="Did it help?")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
