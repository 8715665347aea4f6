"""The board in a real browser: drag and drop, the keyboard moves, the dialog, live updates."""

from playwright.sync_api import expect

from improvements.models import Improvement
from tests.e2e.conftest import PHONE, drag, shoot
from tests.factories import ImprovementFactory
from tests.improvements.board_helpers import titles_in


def wait_idle(page):
    page.wait_for_function("() => !document.querySelector('.htmx-request')")


def test_a_card_dragged_to_another_column_lands_there(page, columns, unit):
    card = ImprovementFactory(title="Drag me", column=columns["Ideas"])
    ImprovementFactory(title="Already in progress", column=columns["In progress"])
    page.goto("/board/")
    shoot(page, "board-laptop")
    drag(page, page.locator(f"#card-{card.pk}"), page.get_by_label("Cards in In progress"))
    in_progress = page.locator(f"#column-{columns['In progress'].pk}")
    expect(in_progress.locator(f"#card-{card.pk}")).to_be_visible()
    expect(page.locator("#board-status")).to_contain_text("Moved “Drag me” to In progress")
    wait_idle(page)
    assert "Drag me" in titles_in(columns["In progress"])
    # The server's answer replaced the column: its count is the new one.
    expect(in_progress.locator(".wip")).to_contain_text("2 / 4")


def test_the_move_buttons_work_from_the_keyboard_and_keep_focus(page, columns, unit):
    a, b, c = (ImprovementFactory(title=t, column=columns["Next"]) for t in ("A1", "B2", "C3"))
    page.goto("/board/")
    # The move controls come into a card with the focus: from its title, Tab reaches them
    # (the first card's ↑ is disabled, so Tab lands on ↓).
    expect(page.locator(".card-moves")).to_have_count(0)
    page.locator(f"#card-{a.pk} > a").focus()
    page.keyboard.press("Tab")
    expect(page.locator(f"#card-{a.pk} #card-move-down")).to_be_focused()
    expect(page.locator("#card-move-down")).to_have_accessible_name("Move down: A1")
    page.keyboard.press("Enter")
    expect(page.locator("#board-status")).to_contain_text("position 2 of 3")
    wait_idle(page)
    assert titles_in(columns["Next"]) == ["B2", "A1", "C3"]
    # Focus stays on the moved card, so pressing again keeps moving it.
    expect(page.locator(f"#card-{a.pk} #card-move-down")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#board-status")).to_contain_text("position 3 of 3")
    wait_idle(page)
    assert titles_in(columns["Next"]) == ["B2", "C3", "A1"]
    # At the bottom "down" is disabled; focus moves to a control of the same card.
    focused_card = page.evaluate("document.activeElement.closest('li.board-card').id")
    assert focused_card == f"card-{a.pk}"
    assert b.pk and c.pk


def test_the_move_form_in_a_dialog_moves_a_card_after_a_chosen_card(page, columns, unit):
    card = ImprovementFactory(title="Form move", column=columns["Ideas"])
    first = ImprovementFactory(title="First done", column=columns["Done"])
    ImprovementFactory(title="Second done", column=columns["Done"])
    page.goto("/board/")
    page.locator(f"#card-{card.pk} > a").focus()
    page.locator("#card-move-pick").focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#card-dialog")
    expect(dialog).to_be_visible()
    expect(page.get_by_label("Column")).to_be_focused()
    page.get_by_label("Column").select_option(label="Done")
    page.get_by_label("Position").select_option(value=f"after-{first.pk}")
    shoot(page, "move-dialog", full_page=False)
    page.get_by_role("button", name="Move", exact=True).press("Enter")
    expect(dialog).to_be_hidden()
    expect(page.locator("#board-status")).to_contain_text("to Done, position 2 of 3")
    wait_idle(page)
    assert titles_in(columns["Done"]) == ["First done", "Form move", "Second done"]
    focused_card = page.evaluate("document.activeElement.closest('li.board-card')?.id")
    assert focused_card == f"card-{card.pk}"


def test_another_viewer_sees_a_move_without_reloading(open_page, owner, teammate, columns, unit):
    card = ImprovementFactory(title="Watched card", column=columns["Ideas"])
    mover, watcher = open_page(owner), open_page(teammate)
    watcher.goto("/board/")
    mover.goto("/board/")
    mover.locator(f"#card-{card.pk}").hover()
    mover.locator("#card-move-pick").click()
    mover.get_by_label("Column").select_option(label="In progress")
    mover.get_by_role("button", name="Move", exact=True).click()
    expect(mover.locator("#board-status")).to_contain_text("Moved")
    in_progress = watcher.locator(f"#column-{columns['In progress'].pk}")
    expect(in_progress.locator(f"#card-{card.pk}")).to_be_visible(timeout=8_000)
    assert watcher.evaluate("performance.getEntriesByType('navigation').length") == 1


def test_an_open_board_shows_a_renamed_column_within_seconds(open_page, teammate, columns):
    watcher = open_page(teammate)
    watcher.goto("/board/")
    column = columns["Next"]
    column.name = "Up next"
    column.save()
    heading = watcher.locator(f"#column-{column.pk}-name")
    expect(heading).to_have_text("Up next", timeout=10_000)


def test_a_column_change_waits_while_someone_is_typing(open_page, teammate, columns, unit):
    watcher = open_page(teammate)
    watcher.goto("/board/")
    typed = watcher.get_by_label("New card in Ideas")
    typed.fill("Half a thought")
    column = columns["Next"]
    column.name = "Up next"
    column.save()
    expect(watcher.locator("#board-status")).to_contain_text("columns were changed", timeout=10_000)
    expect(typed).to_have_value("Half a thought")
    assert watcher.evaluate("performance.getEntriesByType('navigation').length") == 1
    typed.fill("")
    heading = watcher.locator(f"#column-{column.pk}-name")
    expect(heading).to_have_text("Up next", timeout=10_000)


def test_the_card_dialog_shows_detail_and_takes_a_comment(page, columns, unit):
    card = ImprovementFactory(title="Open me", description="Some **bold** plan")
    page.goto("/board/")
    page.get_by_role("link", name="Open me", exact=True).click()
    dialog = page.locator("#card-dialog")
    expect(dialog.get_by_role("heading", name="Open me")).to_be_visible()
    expect(dialog.locator("strong")).to_have_text("bold")
    dialog.get_by_label("Comment").fill("Looking into it")
    dialog.get_by_role("button", name="Add comment").click()
    expect(dialog.locator(".comment")).to_contain_text("Looking into it")
    shoot(page, "card-dialog", full_page=False)
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    assert card.comments.count() == 1


def test_the_card_dialog_fetches_its_edit_form_when_opened_and_saves(page, columns, unit):
    card = ImprovementFactory(title="Rename me")
    page.goto("/board/")
    page.get_by_role("link", name="Rename me", exact=True).click()
    dialog = page.locator("#card-dialog")
    expect(dialog.get_by_role("heading", name="Rename me")).to_be_visible()
    expect(dialog.get_by_label("Title")).to_have_count(0)
    dialog.get_by_text("Edit", exact=True).click()
    dialog.get_by_label("Title").fill("Renamed")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("heading", name="Renamed")).to_be_visible()
    card.refresh_from_db()
    assert card.title == "Renamed"


def test_quick_add_puts_a_card_at_the_bottom_without_a_reload(page, columns, unit):
    page.goto("/board/")
    page.get_by_label("New card in Next").fill("Automate the changelog")
    page.get_by_label("New card in Next").press("Enter")
    column = page.locator(f"#column-{columns['Next'].pk}")
    expect(column.locator(".board-card").last).to_contain_text("Automate the changelog")
    expect(page.get_by_label("New card in Next")).to_have_value("")


def test_the_board_reads_on_a_phone(open_page, owner, columns, unit):
    for index in range(3):
        ImprovementFactory(title=f"Phone card {index}", column=columns["Next"], unit=unit)
    page = open_page(owner, viewport=PHONE)
    page.goto("/board/")
    expect(page.get_by_role("heading", name="Improvement board")).to_be_visible()
    shoot(page, "board-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1


def test_a_refused_move_fetches_the_real_columns_at_once(open_page, owner, columns, unit):
    page = open_page(owner, refusals_expected=True)
    first = ImprovementFactory(title="Leaves", column=columns["Next"])
    second = ImprovementFactory(title="Stays", column=columns["Next"])
    page.goto("/board/")
    # Someone else moves the neighbour away; this page still shows it.
    Improvement.objects.get(pk=first.pk).move_to(columns["Done"])
    page.locator(f"#card-{second.pk}").hover()
    page.locator("#card-move-up").click()
    expect(page.locator("#board-status")).to_contain_text("no longer in that column")
    # Well before the next poll, the page shows where the cards really are.
    next_column = page.locator(f"#column-{columns['Next'].pk}")
    expect(next_column.locator(f"#card-{first.pk}")).to_have_count(0, timeout=2500)
    expect(page.locator(f"#column-{columns['Done'].pk} #card-{first.pk}")).to_be_visible()
    assert titles_in(columns["Next"]) == ["Stays"]


def test_move_controls_show_on_hover_only_and_a_title_opens_the_card(page, columns, unit):
    first = ImprovementFactory(title="Hover me", column=columns["Next"])
    second = ImprovementFactory(title="Then me", column=columns["Next"])
    page.goto("/board/")
    page.locator(f"#card-{first.pk}").hover()
    tools = page.locator(f"#card-{first.pk} .card-moves")
    expect(tools).to_be_visible()
    expect(page.locator("#card-move-up")).to_be_disabled()
    page.locator(f"#card-{second.pk}").hover()
    expect(tools).to_have_count(0)
    expect(page.locator(f"#card-{second.pk} #card-move-up")).to_be_enabled()
    page.mouse.move(1, 1)
    expect(page.locator(".card-moves")).to_be_hidden()
    page.locator(f"#card-{first.pk} > a").click()
    expect(page.locator("#card-dialog")).to_be_visible()
    expect(page.locator("#card-dialog #card-title")).to_have_text("Hover me")


def test_without_javascript_a_card_moves_from_its_page(
    open_page, live_server, owner, columns, unit
):
    card = ImprovementFactory(title="No script", column=columns["Ideas"])
    page = open_page(owner, java_script_enabled=False)
    page.goto("/board/")
    page.get_by_role("link", name="No script").click()
    expect(page.get_by_role("heading", name="No script")).to_be_visible()
    page.get_by_role("link", name="Move…").click()
    page.get_by_label("Column").select_option(label="In progress")
    page.get_by_role("button", name="Move", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/board/#card-{card.pk}")
    in_progress = page.locator(f"#column-{columns['In progress'].pk}")
    expect(in_progress.locator(f"#card-{card.pk}")).to_be_visible()
    assert titles_in(columns["In progress"]) == ["No script"]
