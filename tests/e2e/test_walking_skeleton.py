"""The thin path through the whole product: retro -> finding -> card -> drag -> dashboard."""

import re

from playwright.sync_api import expect

from improvements.models import Improvement
from retros.models import Finding
from tests.e2e.conftest import drag


def test_a_finding_becomes_a_card_that_is_dragged_and_counted(
    open_page, owner, duty_week, live_server
):
    page = open_page()  # start logged out: the real login form
    page.goto("/retros/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Username").fill("owner")
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()

    page.goto("/retros/")
    page.get_by_role("button", name="Start this week's retro").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Retro")
    # The heading can be there before the deferred scripts ran; Enter in the quick input only
    # adds a finding once retro.js listens (before that it is a new line in the textarea).
    page.wait_for_load_state("load")

    pain = page.get_by_label("Add a finding: Pain")
    pain.fill("Manual smoke test of production takes 40 minutes")
    pain.press("Enter")
    expect(page.locator("#findings-pain")).to_contain_text("Manual smoke test of production")
    # Added without a reload, and the input is empty again for the next finding.
    expect(pain).to_have_value("")
    assert Finding.objects.filter(text__startswith="Manual smoke test").count() == 1

    page.get_by_role("button", name="Submit retro").click()
    page.get_by_role("link", name="Triage findings").click()
    # Pre-filled: the title from the finding and a category guessed from its words.
    expect(page.get_by_label("Improvement title")).to_have_value(
        "Manual smoke test of production takes 40 minutes"
    )
    expect(page.get_by_label("Category").locator("option:checked")).to_have_text("Smoke test")
    page.get_by_role("button", name="Create improvement").click()
    expect(page.locator(".messages")).to_contain_text("Created improvement")
    card = Improvement.objects.get()
    assert card.finding_links.count() == 1

    page.goto("/board/")
    source = page.locator(f"#card-{card.pk}")
    target = page.get_by_label("Cards in In progress")
    drag(page, source, target)
    expect(
        page.locator("section", has=page.get_by_role("heading", name="In progress")).locator(
            f"#card-{card.pk}"
        )
    ).to_be_visible()
    page.wait_for_function("id => !document.querySelector('.htmx-request')", arg=card.pk)
    page.wait_for_timeout(300)
    card.refresh_from_db()
    assert card.column.name == "In progress"

    page.reload()
    in_progress = page.locator("section", has=page.get_by_role("heading", name="In progress"))
    expect(in_progress.locator(f"#card-{card.pk}")).to_be_visible()
    assert card.events.filter(kind="moved").count() == 1

    page.goto("/dashboard/")
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
