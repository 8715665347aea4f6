"""The dashboard on demo data in a real browser: every chart drawn, no console errors."""

import io
import re

from django.contrib.auth import get_user_model
from django.core.management import call_command
from playwright.sync_api import expect

from improvements.models import Event, Improvement

from .conftest import PHONE, shoot


def test_the_dashboard_draws_every_chart_on_demo_data(open_page):
    call_command("seed_demo", force=True, stdout=io.StringIO())
    demo = get_user_model().objects.get(username="demo")

    page = open_page(demo)
    page.goto("/dashboard/")
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    # The deployment sections load right after the page, each panel on its own request.
    expect(page.locator(".dash-panel-loading")).to_have_count(0)
    charts = page.locator("canvas[data-chart]")
    assert charts.count() >= 9
    expect(page.locator("canvas[data-drawn]")).to_have_count(charts.count())
    # The sections are tabs under the headline; each opens in place.
    expect(page.get_by_role("heading", name="Is it getting better?")).to_be_visible()
    expect(page.get_by_role("heading", name="Did it help?")).to_be_hidden()
    page.get_by_role("tab", name="Did it help?").click()
    expect(page.get_by_role("heading", name="Did it help?")).to_be_visible()
    expect(page.get_by_role("heading", name="Improvement flow")).to_be_hidden()
    page.get_by_role("tab", name="Did it help?").press("Home")
    expect(page.get_by_role("tab", name="Improvement flow")).to_be_focused()
    expect(page.get_by_role("heading", name="Improvement flow")).to_be_visible()
    shoot(page, "dashboard-laptop")

    # The numbers behind a chart open as a table.
    throughput = page.locator("#panel-throughput")
    throughput.get_by_text("Numbers").click()
    expect(throughput.get_by_role("columnheader", name="Cards done")).to_be_visible()

    # Filters land in the URL, and the CSV links keep them; they fold under the range.
    page.get_by_text("Change", exact=True).click()
    page.get_by_label("Unit").select_option(label="Payments")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"unit=\d+"))
    csv_link = page.locator("#panel-wip").get_by_role("link", name=re.compile("CSV"))
    assert "unit=" in csv_link.get_attribute("href")
    expect(page.locator(".dash-panel-loading")).to_have_count(0)  # count after the lazy panels
    expect(page.locator("canvas[data-drawn]")).to_have_count(page.locator("canvas").count())

    # A person sets the verdict of a finished improvement; the suggestion is not preselected.
    page.goto("/dashboard/#panel-effects")
    row = page.locator("#panel-effects tbody tr").first
    card_id = int(row.get_attribute("id").removeprefix("effect-"))
    row.get_by_role("combobox").select_option("confirmed")
    row.get_by_role("button", name="Set verdict").click()
    expect(page.locator(".messages")).to_contain_text("verdict Helped")
    assert Improvement.objects.get(pk=card_id).effect_verdict == "confirmed"
    assert Event.objects.filter(improvement_id=card_id, kind="verdict").exists()

    phone = open_page(demo, viewport=PHONE)
    phone.goto("/dashboard/")
    expect(phone.locator("canvas[data-drawn]")).to_have_count(charts.count())
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page is {overflow}px wider than a phone"
    shoot(phone, "dashboard-phone")
