"""Browser fixtures: Debian's headless Chromium driven by Playwright against live_server.

Every page a test opens fails the test if it logs a console error or an uncaught exception.
"""

import os
import re

import pytest
from django.test import Client

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# around it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# A folder: when set, shoot() keeps screenshots there to look at; otherwise it takes none.
SCREENSHOTS = os.environ.get("E2E_SCREENSHOTS")
# "Response Status Error Code 409 from …" (htmx), "… responded with a status of 409" (Chromium).
REFUSAL_LOGGED = re.compile(r"\b409\b")
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser, live_server):
    """open_page(user=None, viewport=LAPTOP) -> a Playwright page, logged in as `user`.

    `refusals_expected=True` is for a test that provokes a refused request (a 409): the console
    errors htmx and the browser log for a 409 are no problem, any other error still is. Other
    keywords go to the browser context (`java_script_enabled=False`).
    """
    contexts, problems = [], []

    def _open(user=None, viewport=LAPTOP, *, refusals_expected=False, **context_options):
        context = browser.new_context(
            viewport=viewport, base_url=live_server.url, **context_options
        )
        context.set_default_timeout(10_000)
        if user is not None:
            client = Client()
            client.force_login(user)
            context.add_cookies(
                [
                    {
                        "name": "sessionid",
                        "value": client.cookies["sessionid"].value,
                        "url": live_server.url,
                    }
                ]
            )
        contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda message: (
                problems.append(f"console {message.type}: {message.text}")
                if message.type == "error"
                and not (refusals_expected and REFUSAL_LOGGED.search(message.text))
                else None
            ),
        )
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        return page

    yield _open
    for context in contexts:
        context.close()
    assert not problems, "The browser reported errors:\n" + "\n".join(problems)


def shoot(page, name: str, full_page: bool = True) -> None:
    """Keep a screenshot of `page` as <name>.png in $E2E_SCREENSHOTS, if it is set."""
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=full_page)


def drag(page, source, target):
    """Drag with real pointer steps: SortableJS ignores a single jump."""
    box = source.bounding_box()
    goal = target.bounding_box()
    start_x, start_y = box["x"] + box["width"] / 2, box["y"] + 10
    end_x, end_y = goal["x"] + goal["width"] / 2, goal["y"] + 20
    page.mouse.move(start_x, start_y)
    page.mouse.down()
    for step in range(1, 16):
        page.mouse.move(
            start_x + (end_x - start_x) * step / 15, start_y + (end_y - start_y) * step / 15
        )
        page.wait_for_timeout(20)
    page.mouse.up()


@pytest.fixture
def page(open_page, owner):
    """A laptop-sized page logged in as the owner (a member of the unit on duty)."""
    return open_page(owner)
