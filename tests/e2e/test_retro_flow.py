"""A whole retro filled in with the keyboard, seen by a second attendee, then triaged."""

import datetime
import re
import time

from playwright.sync_api import expect

from improvements.models import Comment, Improvement
from retros.models import Finding, Retrospective
from retros.people import display_name
from tests.e2e.conftest import PHONE, shoot
from tests.factories import (
    DutyWeekFactory,
    FindingFactory,
    ImprovementFactory,
    RetrospectiveFactory,
)


def wait_until(condition, seconds=5.0):
    """Autosave runs a moment after typing stops: wait for the row to catch up."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the autosave"
        time.sleep(0.1)


def press_on(locator, key="Enter"):
    """Focus a control and press a key on it, as a keyboard user would."""
    locator.focus()
    locator.page.keyboard.press(key)


def test_a_retro_is_filled_in_with_the_keyboard_and_triaged(
    open_page, owner, teammate, unit, duty_week
):
    earlier = RetrospectiveFactory(
        duty_week=DutyWeekFactory(
            week_start=duty_week.week_start - datetime.timedelta(weeks=2), unit=unit
        )
    )
    smoke = ImprovementFactory(title="Automate the production smoke tests")
    smoke.link_finding(FindingFactory(retro=earlier, text="Smoke tests by hand again"), owner)
    owned = ImprovementFactory(title="One-button staging deploy", unit=unit)

    page = open_page(owner)
    page.goto("/retros/")
    press_on(page.get_by_role("button", name="Start this week's retro"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Retro")
    page.wait_for_load_state("load")  # retro.js listens for Enter in the quick inputs
    retro = Retrospective.objects.get(duty_week=duty_week)

    # Carry-over first: a one-line progress note on each open improvement of the unit.
    note = page.get_by_label(f"Progress on “{owned.title}”")
    note.focus()
    page.keyboard.type("Pipeline drafted, needs review")
    page.keyboard.press("Enter")
    expect(page.locator(f"#carry-{owned.pk}")).to_contain_text("Noted: Pipeline drafted")

    # Findings: each kind has its own input; Enter adds and keeps the focus there.
    for kind, text in [
        ("Pain", "Manual smoke test of production took 40 minutes"),
        ("Idea", "Add a release toggle for the checkout"),
        ("Went well", "Rollback was quick"),
    ]:
        quick = page.get_by_label(f"Add a finding: {kind}")
        quick.focus()
        page.keyboard.type(text)
        page.keyboard.press("Enter")
        expect(page.locator("#meeting")).to_contain_text(text)
        expect(quick).to_have_value("")
        expect(quick).to_be_focused()
    assert Finding.objects.filter(retro=retro).count() == 3

    # A finding typed but not yet added survives a reload (or a closed tab).
    page.get_by_label("Add a finding: Pain").focus()
    page.keyboard.type("Half a thought")
    page.reload()
    expect(page.get_by_label("Add a finding: Pain")).to_have_value("Half a thought")
    page.keyboard.press("Tab")

    # An edit is saved as it is typed, without pressing anything.
    idea = Finding.objects.get(retro=retro, kind="idea")
    edit = page.locator(f"#finding-{idea.pk}").get_by_label("Edit text")
    edit.focus()
    page.keyboard.press("Control+End")  # the text wraps in its column: the end of it all
    page.keyboard.type(" page")
    expect(page.locator(f"#finding-status-{idea.pk}")).to_contain_text("Saved")
    idea.refresh_from_db()
    assert idea.text == "Add a release toggle for the checkout page"

    # A second attendee adds a finding; it appears here without a reload.
    other = open_page(teammate)
    other.goto(retro.get_absolute_url())
    other.get_by_label("Add a finding: Question").fill("Who approves hotfixes?")
    other.get_by_label("Add a finding: Question").press("Enter")
    expect(other.locator("#findings-question")).to_contain_text("Who approves hotfixes?")

    # Ratings and summary, autosaved as they change; focus leaves the findings list.
    page.get_by_label(re.compile("How painful")).focus()
    page.keyboard.press("4")
    page.keyboard.press("Tab")
    page.keyboard.press("2")
    expect(page.locator("#findings-question")).to_contain_text(
        "Who approves hotfixes?", timeout=15_000
    )
    page.get_by_role("textbox", name="Summary").focus()
    page.keyboard.type("Smoke tests ate the afternoon.")
    expect(page.locator("#retro-save-status")).to_contain_text("Saved")
    wait_until(lambda: Retrospective.objects.get(pk=retro.pk).summary.endswith("afternoon."))
    retro.refresh_from_db()
    assert (retro.pain_rating, retro.confidence_rating) == (4, 2)
    assert retro.summary == "Smoke tests ate the afternoon."
    expect(page.locator("#missing-attendees")).to_contain_text("all here")

    page.set_viewport_size({"width": 1280, "height": 2400})
    shoot(page, "retro-laptop")
    press_on(page.get_by_role("button", name="Submit retro"))
    expect(page.locator(".messages")).to_contain_text("Retro submitted")
    retro.refresh_from_db()
    assert retro.is_submitted

    # Triage: the pain becomes a new card, the idea joins an existing one.
    press_on(page.get_by_role("link", name="Triage findings"))
    pain = Finding.objects.get(retro=retro, kind="pain")
    pain_item = page.locator(f"#triage-f{pain.pk}")
    press_on(pain_item.get_by_role("radio", name="New improvement"), " ")
    expect(pain_item.get_by_label("Improvement title")).to_have_value(
        "Manual smoke test of production took 40 minutes"
    )
    pain_item.get_by_label("Owner").focus()
    page.keyboard.type(display_name(teammate))  # type-ahead: the select lists people by name
    press_on(pain_item.get_by_role("button", name="Create improvement"))
    expect(page.locator(".messages")).to_contain_text("Created improvement")

    idea_item = page.locator(f"#triage-f{idea.pk}")
    press_on(idea_item.get_by_role("radio", name=re.compile("^Join")), " ")
    idea_item.get_by_label("Search open improvements").focus()
    page.keyboard.type("automate smoke")
    expect(idea_item.get_by_label("Improvement to join")).to_contain_text(
        "Automate the production smoke tests"
    )
    page.keyboard.press("Tab")  # on to the Join button
    expect(idea_item.get_by_role("button", name="Join", exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".messages")).to_contain_text("now raised by 2 retros")
    expect(page.get_by_text("Every pain and idea is triaged")).to_be_visible()
    shoot(page, "triage-laptop")

    card = Improvement.objects.exclude(pk__in=[smoke.pk, owned.pk]).get()
    assert card.assignee == teammate
    assert Improvement.objects.with_recurrence().get(pk=smoke.pk).recurrence == 2
    assert Comment.objects.get(improvement=owned).body == "Pipeline drafted, needs review"

    phone = open_page(owner, viewport=PHONE)
    phone.goto(retro.get_absolute_url())
    shoot(phone, "retro-phone")
    phone.goto(f"/retros/{retro.pk}/triage/")
    shoot(phone, "triage-phone")
