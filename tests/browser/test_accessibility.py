"""Accessibility in a real Chromium: axe-core finds no serious or critical problem on any
main page or wizard step, the import dialog behaves as a modal, and a whole import can be
done with the keyboard alone."""

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from huddle.extensions import db
from huddle.models import Level

from ..helpers import accessibility_problems, log_in_as_admin, make_user


@pytest.fixture
def some_data(app_ctx):
    level = Level(name="Basis", description="Toegang tot de basis")
    db.session.add(level)
    db.session.commit()
    for i in range(3):
        user = make_user(f"persoon{i}@example.org", first_name="Persoon", last_name=str(i))
        user.levels.append(level)
    db.session.commit()
    return level


def test_main_pages_have_no_serious_accessibility_problems(page, admin, some_data):
    page.goto("/login")
    assert accessibility_problems(page) == []
    log_in_as_admin(page, admin)
    for path in ("/users", f"/users/{admin.id}", "/levels", f"/levels/{some_data.id}",
                 "/imports", "/exports", "/system", "/outbox", "/account"):  # fmt: skip
        page.goto(path)
        page.wait_for_load_state("load")
        assert accessibility_problems(page) == [], path


def _upload(dialog, path) -> None:
    dialog.get_by_label(
        "Choose or drop your filled-in file (.csv, .xlsx, .ods or .xls)"
    ).set_input_files(path)
    dialog.get_by_role("button", name="Upload and check").click()


def test_every_wizard_step_has_no_serious_accessibility_problems(
    page, admin, some_data, tmp_path, worker_process
):
    renamed = tmp_path / "eigen-titels.csv"
    renamed.write_bytes(b"Contact;Naam;Achternaam\r\nAnna;Anna;Jansen\r\n")
    broken = tmp_path / "fouten.csv"
    broken.write_bytes(
        "email;first_name;infix;last_name;phone;organisation;job_title;language;levels\r\n"
        "jan@gemeente.nl;Jan;;Jansen;;;;nl;\r\n"
        "geen-adres;Zoë;;Çelik;;;;;Onbekend\r\n"
        "jan@gemeente.nl;;;Jansen;;;;;\r\n".encode()
    )
    log_in_as_admin(page, admin)
    page.get_by_role("link", name="Import", exact=True).click()
    dialog = page.get_by_role("dialog", name="Import users")
    expect(dialog).to_be_visible()
    assert accessibility_problems(page) == [], "step 1, template"
    dialog.get_by_role("link", name="Next: upload your file").click()
    expect(dialog.locator("[aria-current=step]")).to_contain_text("Upload")
    assert accessibility_problems(page) == [], "step 2, upload"

    _upload(dialog, renamed)  # no column of addresses: the mapping step
    expect(dialog.get_by_text("Which columns hold these?")).to_be_visible()
    assert accessibility_problems(page) == [], "step 2, mapping the columns"

    dialog.get_by_label("Upload another file instead").set_input_files(broken)
    dialog.get_by_role("button", name="Upload and check").click()
    expect(dialog.locator("#preview-totals")).to_contain_text("2 invalid rows")
    assert accessibility_problems(page) == [], "step 2, a preview with errors"
    dialog.get_by_role("tab", name="Invalid (2)").click()
    expect(dialog.locator("#row-2")).to_be_hidden()
    assert accessibility_problems(page) == [], "step 2, the invalid rows"

    dialog.get_by_role("link", name="Next: choose levels").click()
    expect(dialog.get_by_label("Basis")).to_be_visible()
    assert accessibility_problems(page) == [], "step 3, levels"
    dialog.get_by_role("button", name="Next: mails").click()
    expect(dialog.get_by_text("Welcome mail", exact=True)).to_be_visible()
    assert accessibility_problems(page) == [], "step 4, mails"
    dialog.get_by_role("button", name="Next: confirm").click()
    expect(dialog.locator("#import-summary")).to_be_visible()
    assert accessibility_problems(page) == [], "step 5, confirm"
    dialog.get_by_role("button", name="Start import").click()
    expect(page.locator(".badge")).to_have_text("done", timeout=30_000)
    assert accessibility_problems(page) == [], "the import's page"


def _tab_to(page, target, limit: int = 80) -> None:
    """Press Tab until ``target`` has the focus, as a keyboard user would."""
    for _ in range(limit):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {target}")


def _choose_file_by_keyboard(page, file_input, path) -> None:
    """Tab to the file field and press Space for the file chooser. Once in a while the focus
    moves on between the Tab and the Space (the step's title takes it when its swap
    settles); a keyboard user then tabs back and presses Space again, and so does this."""
    for _attempt in range(3):
        _tab_to(page, file_input)
        try:
            with page.expect_file_chooser(timeout=5000) as chooser:
                page.keyboard.press("Space")
        except PlaywrightTimeoutError:
            continue
        chooser.value.set_files(path)
        return
    raise AssertionError("Space on the file field never opened the file chooser")


def _focus_is_in(page, selector: str) -> bool:
    return page.evaluate(
        "selector => document.querySelector(selector).contains(document.activeElement)", selector
    )


def test_the_import_dialog_is_a_modal_and_a_whole_import_works_by_keyboard(
    page, admin, some_data, tmp_path, worker_process
):
    path = tmp_path / "mensen.csv"
    path.write_bytes(
        "email;first_name;infix;last_name;phone;organisation;job_title;language;levels\r\n"
        "jan@gemeente.nl;Jan;;Jansen;;;;nl;\r\n"
        "zoe-at-celik.nl;Zoë;;Çelik;;;;;\r\n".encode()
    )
    log_in_as_admin(page, admin)
    import_button = page.get_by_role("link", name="Import", exact=True)
    _tab_to(page, import_button)
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Import users")
    expect(dialog).to_be_visible()
    assert _focus_is_in(page, "#import-dialog")
    for _ in range(12):  # Tab goes round inside the dialog, never behind it
        page.keyboard.press("Tab")
        assert _focus_is_in(page, "#import-dialog")
    page.keyboard.press("Shift+Tab")
    assert _focus_is_in(page, "#import-dialog")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(import_button).to_be_focused()

    # Now the whole import, with the keyboard alone.
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    _tab_to(page, dialog.get_by_role("link", name="Next: upload your file"))
    page.keyboard.press("Enter")
    # The new step puts the focus on its title once it is in place: tab on from there (a Tab
    # pressed before that would be overtaken by it).
    expect(page.locator("#wizard-title")).to_have_text("Import users: step 2 of 5, Upload & check")
    expect(page.locator("#wizard-title")).to_be_focused()
    file_input = dialog.get_by_label(
        "Choose or drop your filled-in file (.csv, .xlsx, .ods or .xls)"
    )
    _choose_file_by_keyboard(page, file_input, path)
    _tab_to(page, dialog.get_by_role("button", name="Upload and check"))
    page.keyboard.press("Enter")
    expect(dialog.locator("#preview-totals")).to_contain_text("1 invalid row")
    # The error is announced with its cell: the input is described by the message.
    cell = dialog.get_by_label("Line 3, e-mail address")
    expect(cell).to_have_attribute("aria-invalid", "true")
    described_by = cell.get_attribute("aria-describedby")
    expect(dialog.locator(f"#{described_by}")).to_contain_text("has no @")
    _tab_to(page, cell)
    page.keyboard.press("Control+A")
    page.keyboard.type("zoe@celik.nl")
    page.keyboard.press("Tab")
    expect(dialog.locator("#preview-totals")).to_contain_text("0 invalid rows")

    _tab_to(page, dialog.get_by_role("link", name="Next: choose levels"))
    page.keyboard.press("Enter")
    expect(page.locator("#wizard-title")).to_be_focused()
    _tab_to(page, dialog.get_by_label("Basis"))
    page.keyboard.press("Space")
    expect(dialog.get_by_label("Basis")).to_be_checked()
    _tab_to(page, dialog.get_by_role("button", name="Next: mails"))
    page.keyboard.press("Enter")
    expect(page.locator("#wizard-title")).to_have_text("Import users: step 4 of 5, Mails")
    _tab_to(page, dialog.get_by_role("button", name="Next: confirm"))
    page.keyboard.press("Enter")
    _tab_to(page, dialog.get_by_role("button", name="Start import"))
    page.keyboard.press("Enter")

    progress_or_done = page.get_by_role("progressbar", name="Import progress").or_(
        page.get_by_text("users created")
    )
    expect(progress_or_done.first).to_be_visible()
    expect(page.locator(".badge")).to_have_text("done", timeout=30_000)
    expect(page.get_by_text("users created")).to_be_visible()
