"""Every main page, in a real browser at laptop and phone width: no sideways scrolling on a
phone, and axe-core finds no serious or critical accessibility violation.

axe-core is vendored (tests/e2e/vendor/axe-core-4.14.1.min.js, from the npm registry's
axe-core 4.14.1 tarball, sha1 14d8a6f3f085afd126b8b5ca1e42e50e17fb1d99; MPL-2.0, licence
beside it), so nothing is downloaded at test time. The pages' CSP would refuse the injected
script, so these browser contexts bypass CSP; the pages' own scripts run as in production.
"""

import io
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from .conftest import LAPTOP, PHONE
from .page_sweep import main_pages, open_context, visit

AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js"
BLOCKING = ("serious", "critical")


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", force=True, stdout=io.StringIO())
    return get_user_model().objects.get(username="demo")


def axe_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    results = page.evaluate(
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))"
    )
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) at {v['nodes']}"
        for v in results
        if v["impact"] in BLOCKING
    ]


@pytest.mark.parametrize(
    ("viewport", "color_scheme"),
    [(PHONE, "light"), (LAPTOP, "light"), (LAPTOP, "dark")],
    ids=["phone", "laptop", "laptop-dark"],
)
def test_every_main_page_fits_a_phone_and_passes_axe(
    browser, live_server, demo, viewport, color_scheme
):
    pages = main_pages()
    context, session = open_context(browser, live_server, demo, viewport, color_scheme)
    problems, sideways, violations = [], {}, {}
    checked = 0
    try:
        for name, path in pages.items():
            page = visit(context, session, live_server, name, path, problems)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if overflow > 0:
                sideways[name] = overflow
            found = axe_violations(page)
            if found:
                violations[name] = found
            checked += 1
            page.close()
    finally:
        context.close()
    assert checked == len(pages) == 17
    assert not sideways, f"Pages wider than the {viewport['width']} px window: {sideways}"
    assert not violations, "axe-core found:\n" + "\n".join(
        f"{name}: {line}" for name, lines in violations.items() for line in lines
    )
    assert not problems, "The browser reported errors:\n" + "\n".join(problems)


def test_the_board_with_its_move_controls_and_card_dialog_passes_axe(browser, live_server, demo):
    context, session = open_context(browser, live_server, demo, PHONE)
    problems = []
    try:
        page = visit(context, session, live_server, "board", "/board/", problems)
        card = page.locator("#board li.board-card").first
        card.locator("a").focus()
        assert page.locator(".card-moves:not([hidden])").count() == 1
        with_controls = axe_violations(page)
        card.locator("a").click()
        page.wait_for_selector("#card-dialog[open] #card-title")
        in_dialog = axe_violations(page)
    finally:
        context.close()
    assert not with_controls, with_controls
    assert not in_dialog, in_dialog
    assert not problems, problems
