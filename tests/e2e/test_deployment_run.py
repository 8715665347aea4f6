"""A whole deployment run in one browser while the QA shadow watches it live in another."""

from playwright.sync_api import expect

from retros.models import Deployment, DeploymentRun, Finding, ProcessStep

from .conftest import PHONE, shoot


def test_the_unit_runs_a_deployment_while_the_shadow_sees_each_step_change(
    open_page, owner, duty_week
):
    for position, (title, mode) in enumerate(
        [
            ("Freeze the release branch", ProcessStep.Mode.MANUAL),
            ("Build and push images", ProcessStep.Mode.AUTOMATED),
            ("Smoke test by hand", ProcessStep.Mode.MANUAL),
        ],
        start=1,
    ):
        ProcessStep.objects.create(title=title, mode=mode, position=position, how_to="Do it well")
    deployer = open_page(owner)
    shadow = open_page(duty_week.qa_person, viewport=PHONE)

    deployer.goto("/process/")
    deployer.get_by_role("link", name="Start a deployment run").click()
    deployer.get_by_label("Commit or version").fill("v2026.11.3")
    deployer.get_by_label("CI pipeline id (optional)").fill("pipeline-77")
    deployer.get_by_role("button", name="Start the run").click()
    expect(deployer.get_by_role("heading", level=1)).to_contain_text("Production")
    run = DeploymentRun.objects.get()

    shadow.goto(f"/runs/{run.pk}/")
    steps = shadow.locator(".run-step")
    expect(steps).to_have_count(3)
    first_state = steps.nth(0).locator(".step-state")
    expect(first_state).to_have_text("To do")

    # Each press in the deployer's page shows up in the shadow's page without a reload.
    deployer.get_by_role("button", name="Start “Freeze the release branch”").click()
    expect(first_state).to_have_text("In progress")
    deployer.get_by_role("button", name="Done with “Freeze the release branch”").click()
    expect(first_state).to_have_text("Done")

    deployer.get_by_role("button", name="Start waiting for “Build and push images”").click()
    expect(steps.nth(1).locator(".step-state")).to_have_text("In progress")
    # Blocked, with the cause, from the keyboard alone.
    cause = deployer.get_by_label("What blocks “Build and push images”")
    cause.fill("Registry is down")
    cause.press("Enter")
    expect(steps.nth(1).locator(".step-state")).to_have_text("Blocked")
    expect(steps.nth(1)).to_contain_text("Registry is down")
    deployer.get_by_role("button", name="Unblocked: resume “Build and push images”").click()
    deployer.get_by_role("button", name="Confirm done: “Build and push images”").click()
    expect(steps.nth(1).locator(".step-state")).to_have_text("Done")

    deployer.get_by_label("Kind").select_option("question")
    deployer.get_by_label("On step").select_option(label="3. Smoke test by hand")
    deployer.get_by_label("Note", exact=True).fill("Why is this still manual?")
    deployer.get_by_role("button", name="Add to the retro").click()
    expect(shadow.locator(".run-notes")).to_contain_text("Why is this still manual?")
    expect(deployer.get_by_label("Note", exact=True)).to_have_value("")

    # Keyboard only: Start, and focus lands on Done, so Enter twice does the step.
    deployer.get_by_role("button", name="Start “Smoke test by hand”").focus()
    deployer.keyboard.press("Enter")
    expect(deployer.get_by_role("button", name="Done with “Smoke test by hand”")).to_be_focused()
    deployer.keyboard.press("Enter")
    expect(steps.nth(2).locator(".step-state")).to_have_text("Done")
    shoot(shadow, "run-shadow-phone")
    deployer.get_by_role("button", name="Finish the run").click()
    expect(shadow.locator(".run-state")).to_contain_text("Finished: Success")
    expect(deployer.get_by_role("link", name="logged #")).to_be_visible()
    shoot(deployer, "run-finished-laptop")

    # The shadow is QA, not in the unit, yet on duty: they could press, and saw every change.
    deployment = Deployment.objects.get()
    assert (deployment.external_id, deployment.version) == ("pipeline-77", "v2026.11.3")
    assert deployment.manual_steps_done == 2
    finding = Finding.objects.get()
    assert (finding.kind, finding.run, finding.run_step.title) == (
        "question",
        run,
        "Smoke test by hand",
    )
    # Readable on a phone: nothing wider than the screen.
    width = shadow.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width


def test_a_second_press_on_a_stale_page_is_told_what_happened(
    open_page, owner, teammate, duty_week
):
    ProcessStep.objects.create(title="Tag the release", mode="manual", position=1)
    run = DeploymentRun.start(owner, environment="production")
    page = open_page(teammate, refusals_expected=True)
    page.goto(f"/runs/{run.pk}/")
    # The page stops its regular polls, as a background tab does, so it stays stale.
    page.evaluate("Object.defineProperty(document, 'hidden', {value: true})")
    run.step_action(run.steps.get(), "start", owner)
    page.get_by_role("button", name="Start “Tag the release”").click()
    expect(page.locator("#run-status")).to_contain_text("already in progress: owner did that")
    # At once, not at the next poll, the page shows the step as it really is.
    expect(page.locator(".step-state")).to_have_text("In progress", timeout=2500)
