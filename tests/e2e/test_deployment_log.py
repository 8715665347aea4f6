"""Logging a deployment by hand, in a real browser, on a laptop and on a phone."""

import datetime

from django.utils import timezone
from playwright.sync_api import expect

from retros.models import Deployment

from .conftest import PHONE, shoot


def test_a_unit_member_logs_a_deployment_by_hand(page, owner, duty_week):
    monday = duty_week.week_start
    page.goto("/deployments/")
    page.get_by_role("link", name="Log a deployment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log a deployment")

    page.get_by_label("Environment").select_option("production")
    page.get_by_label("Started").fill(f"{monday.isoformat()}T10:00")
    # First a mistake: finished before it started.
    page.get_by_label("Finished").fill(f"{monday.isoformat()}T09:30")
    page.get_by_label("Hands-on minutes").fill("35")
    page.get_by_label("Result").select_option("failure")
    page.get_by_label("Blocked minutes").fill("10")
    page.get_by_label("What blocked it").fill("Waiting for the database migration approval")
    page.get_by_label("Restarts").fill("1")
    page.get_by_label("Manual steps done").fill("14")
    page.get_by_label("Trigger").select_option("manual")
    page.get_by_label("Commit or version").fill("v2026.3.1")
    page.get_by_label("Notes").fill("Smoke tests by hand took most of the time.")
    page.get_by_role("button", name="Log deployment").click()

    expect(page.locator("body")).to_contain_text("A deployment cannot finish before it starts.")
    expect(page.get_by_label("Commit or version")).to_have_value("v2026.3.1")
    assert not Deployment.objects.exists()
    shoot(page, "deployment-form-error-laptop")

    page.get_by_label("Finished").fill(f"{monday.isoformat()}T11:15")
    page.get_by_role("button", name="Log deployment").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Production deployment")
    expect(page.locator(".messages")).to_contain_text("Deployment logged.")
    expect(page.locator(".details")).to_contain_text(duty_week.iso_label)
    deployment = Deployment.objects.get()
    assert deployment.duty_week == duty_week
    assert (deployment.elapsed_minutes, deployment.hands_on_minutes) == (75, 35)
    assert deployment.deployer == owner
    shoot(page, "deployment-detail-laptop")

    page.get_by_role("link", name="← Deployment log").click()
    expect(page.locator("table.deployments tbody tr")).to_have_count(1)
    expect(page.locator("table.deployments")).to_contain_text("Failure")
    shoot(page, "deployment-list-laptop")


def test_the_log_and_its_form_read_well_on_a_phone(open_page, owner, unit, duty_week):
    start = timezone.now() - datetime.timedelta(hours=3)
    Deployment.objects.create(
        started_at=start,
        finished_at=start + datetime.timedelta(minutes=50),
        hands_on_minutes=20,
        version="4ec1fd5d1cb79bd59bcbfbd8ba1ad72fd4cdaf82",
    )
    page = open_page(owner, viewport=PHONE)
    page.goto("/deployments/")
    expect(page.get_by_role("link", name="Log a deployment")).to_be_visible()
    # Nothing wider than the screen except the table, which scrolls inside its box.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    shoot(page, "deployment-list-phone")
    page.get_by_role("link", name="Log a deployment").click()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(page, "deployment-form-phone")
    page.goto("/process/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(page, "process-map-phone")


def test_qa_reorders_the_process_with_buttons(open_page, staff):
    from retros.models import ProcessStep

    for position, (title, mode, minutes) in enumerate(
        [
            ("Freeze the release branch", "manual", 5),
            ("Run the manual regression", "semi", 60),
            ("Write the changelog by hand", "automated", 20),
        ],
        start=1,
    ):
        ProcessStep.objects.create(
            title=title, mode=mode, minutes=minutes, position=position, how_to="1. Do it"
        )
    page = open_page(staff)
    page.goto("/process/")
    expect(page.locator(".stat .value").first).to_have_text("2")
    page.get_by_role("button", name="Move “Write the changelog by hand” up").click()
    expect(page.locator(".process-step h3")).to_have_text(
        ["Freeze the release branch", "Write the changelog by hand", "Run the manual regression"]
    )
    shoot(page, "process-map-laptop")
