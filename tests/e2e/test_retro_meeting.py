"""Two attendees hold a whole retro meeting: write by keyboard, group, vote, triage."""

import datetime
import re

from django.utils import timezone
from playwright.sync_api import expect

from improvements.models import Column, Event, Improvement
from retros.models import Finding, FindingGroup, Retrospective, Vote
from tests.e2e.conftest import PHONE, shoot
from tests.factories import ImprovementFactory, RetrospectiveFactory


def press_on(locator, key="Enter"):
    """Focus a control and press a key on it, as a keyboard user would."""
    locator.focus()
    locator.page.keyboard.press(key)


def write(page, kind, texts):
    """Type findings into a kind's quick input, Enter after each, never leaving it."""
    quick = page.get_by_label(f"Add a finding: {kind}")
    quick.focus()
    for text in texts:
        page.keyboard.type(text)
        page.keyboard.press("Enter")
        expect(page.locator("#meeting")).to_contain_text(text)
        expect(quick).to_have_value("")
        expect(quick).to_be_focused()


def test_two_attendees_write_group_vote_and_triage_a_retro(
    open_page, owner, teammate, unit, duty_week
):
    done = Column.objects.get(state=Column.State.DONE)
    fixed = ImprovementFactory(
        title="Waited 40 minutes for QA sign-off",
        column=done,
        done_at=timezone.now() - datetime.timedelta(days=20),
    )
    retro = RetrospectiveFactory(duty_week=duty_week, facilitator=owner)
    retro.attendees.add(owner, teammate, duty_week.qa_person, duty_week.platform_person)

    page = open_page(owner)
    page.goto(retro.get_absolute_url())
    other = open_page(teammate)
    other.goto(retro.get_absolute_url())

    # Collect: five findings without the mouse, then the teammate's two.
    write(
        page,
        "Pain",
        [
            "Waited 40 minutes for QA sign-off",
            "Smoke test of production by hand",
            "Nobody knew which pages to smoke test",
        ],
    )
    write(page, "Went well", ["Rollback was quick", "Pairing on the deploy helped"])
    write(other, "Idea", ["Automate the smoke test", "Changelog from commit messages"])
    # Shift+Enter is a new line, not a new finding.
    quick = other.get_by_label("Add a finding: Question")
    quick.focus()
    other.keyboard.type("Who approves hotfixes?")
    other.keyboard.press("Shift+Enter")
    other.keyboard.type("And on Fridays?")
    other.keyboard.press("Enter")
    expect(other.locator("#findings-question")).to_contain_text("And on Fridays?")
    assert Finding.objects.get(kind="question").text == "Who approves hotfixes?\nAnd on Fridays?"
    # Each sees the other's findings within a poll or two.
    expect(page.locator("#findings-idea")).to_contain_text("Changelog from commit", timeout=15_000)
    expect(other.locator("#findings-pain")).to_contain_text("Nobody knew which", timeout=15_000)

    # Group: the facilitator moves on; the teammate sees the phase change.
    press_on(page.get_by_role("button", name="Next: Group →"))
    expect(page.locator(".phase.current")).to_have_text("Group")
    expect(other.locator(".phase.current")).to_have_text("Group", timeout=15_000)

    # By keyboard: "Group with…" on a finding, then choose what to group it with.
    hand = Finding.objects.get(text="Smoke test of production by hand")
    automate = Finding.objects.get(text="Automate the smoke test")
    press_on(page.locator(f"#finding-{automate.pk}").get_by_role("link", name=re.compile("Group")))
    target = page.get_by_label("with", exact=True)
    expect(target).to_be_focused()
    target.select_option(f"f{hand.pk}")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator(".finding-group")).to_contain_text("Automate the smoke test")
    group = FindingGroup.objects.get()
    assert group.title == "Smoke test of production by hand"

    # By mouse: the teammate drags a finding onto the group.
    nobody = Finding.objects.get(text__startswith="Nobody knew")
    expect(other.locator(f"#group-{group.pk}")).to_be_visible(timeout=15_000)
    other.locator(f"#finding-{nobody.pk}").drag_to(other.locator(f"#group-{group.pk}"))
    expect(other.locator(f"#group-{group.pk}")).to_contain_text("Nobody knew")
    assert group.findings.count() == 3

    # Vote: three votes each; a fourth is refused; totals stay secret until voting closes.
    press_on(page.get_by_role("button", name="Next: Vote →"))
    expect(page.locator("#votes-left")).to_have_text("3 of 3")
    group_vote = page.locator(f"#vote-add-g{group.pk}")
    for _ in range(2):
        press_on(group_vote)
        expect(page.locator("#phase-bar")).not_to_contain_text("3 of 3")
    waited = Finding.objects.get(text="Waited 40 minutes for QA sign-off")
    press_on(page.locator(f"#vote-add-f{waited.pk}"))
    expect(page.locator("#votes-left")).to_have_text("0 of 3")
    press_on(page.locator(f"#vote-add-f{waited.pk}"))
    expect(page.locator("#meeting-notice")).to_contain_text("You have used all 3")
    expect(other.locator("#votes-left")).to_have_text("3 of 3", timeout=15_000)
    press_on(other.locator(f"#vote-add-g{group.pk}"))
    expect(other.locator("#votes-left")).to_have_text("2 of 3")
    assert Vote.objects.count() == 4
    expect(other.locator(".vote-total")).to_have_count(0)

    press_on(page.get_by_role("button", name="Next: Discuss →"))
    expect(page.locator(".ranking li").first).to_contain_text("3")
    expect(page.locator(".ranking li").first).to_contain_text(group.title)
    expect(other.locator(".ranking"), "totals reach the teammate").to_be_visible(timeout=15_000)
    page.set_viewport_size({"width": 1280, "height": 2000})
    shoot(page, "meeting-laptop")
    phone = open_page(teammate, viewport=PHONE)
    phone.goto(retro.get_absolute_url())
    shoot(phone, "meeting-phone")

    press_on(page.get_by_role("button", name="Submit retro"))
    expect(page.locator(".messages")).to_contain_text("Retro submitted")

    # Triage: most votes first; the group becomes one card; the known pain joins its done
    # card and reopens it; the idea is closed without action.
    press_on(page.get_by_role("link", name="Triage findings"))
    rows = page.locator(".triage-row")
    expect(rows.first).to_contain_text(group.title)
    shoot(page, "meeting-triage-laptop")
    first = page.locator(f"#triage-g{group.pk}")
    press_on(first.get_by_role("radio", name="New improvement"), " ")
    first.get_by_label("Improvement title").focus()
    page.keyboard.press("Control+a")
    page.keyboard.type("Automate the production smoke test")
    page.keyboard.press("Enter")
    expect(page.locator(".messages")).to_contain_text("Created improvement")

    row = page.locator(f"#triage-f{waited.pk}")
    expect(row.get_by_role("radio", name=re.compile("^Join"))).to_be_checked()
    expect(row.get_by_label("Improvement to join")).to_have_value(str(fixed.pk))
    expect(row.get_by_role("button", name="Join", exact=True)).to_be_hidden()
    press_on(row.get_by_role("button", name="Join & reopen"))
    expect(page.locator(".messages")).to_contain_text("reopened it")

    changelog = Finding.objects.get(text="Changelog from commit messages")
    row = page.locator(f"#triage-f{changelog.pk}")
    press_on(row.get_by_role("radio", name="No action"), " ")
    page.keyboard.press("Tab")
    page.keyboard.type("Tooling team owns it")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Every pain and idea is triaged")).to_be_visible()

    created = Improvement.objects.get(title="Automate the production smoke test")
    assert created.finding_links.count() == 3
    fixed.refresh_from_db()
    assert fixed.column.state == Column.State.ACTIVE
    assert Event.objects.filter(improvement=fixed, kind="reopened").exists()
    assert Retrospective.objects.get(pk=retro.pk).is_submitted
