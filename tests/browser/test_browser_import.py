"""In a real Chromium: the whole import wizard, a fix in the preview, and the import running."""

import re

from playwright.sync_api import expect
from sqlalchemy import select

from huddle.extensions import db
from huddle.models import Level, User

from ..helpers import ADMIN_PASSWORD, csv_file, log_in_as_admin, make_user


def test_import_wizard_with_a_fix_in_the_preview(page, admin, app_ctx, tmp_path, worker_process):
    db.session.add(Level(name="Basis"))
    db.session.commit()
    make_user("piet@bakkerij.nl", first_name="Piet", last_name="Berg")
    path = tmp_path / "mensen.csv"
    path.write_bytes(
        csv_file(
            "jan@gemeente.nl;Jan;;Jansen;;;;nl;",
            "piet@bakkerij.nl;Piet;van den;Berg;;;;;",
            "zoe-at-celik.nl;Zoë;;Çelik;;;;;",
        )
    )

    log_in_as_admin(page, admin)
    page.get_by_role("link", name="Import", exact=True).click()
    dialog = page.get_by_role("dialog", name="Import users")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[aria-current=step]")).to_contain_text("Template")
    dialog.get_by_role("link", name="Next: upload your file").click()

    dialog.get_by_label(
        "Choose or drop your filled-in file (.csv, .xlsx, .ods or .xls)"
    ).set_input_files(path)
    dialog.get_by_role("button", name="Upload and check").click()
    expect(dialog.locator("#preview-totals")).to_contain_text("1 invalid row")
    expect(dialog.locator("#row-4")).to_contain_text("has no @")

    cell = dialog.get_by_label("Line 4, e-mail address")
    cell.fill("zoe@celik.nl")
    cell.press("Tab")
    expect(dialog.locator("#row-4")).to_contain_text("New")
    expect(dialog.locator("#row-4")).to_be_focused()  # the keyboard stays where it was
    expect(dialog.locator("#preview-totals")).to_contain_text("0 invalid rows")
    expect(dialog.locator("#preview-tabs")).to_contain_text("New (2)")

    dialog.get_by_role("link", name="Next: choose levels").click()
    # Keyboard and screen-reader users land on the new step's title.
    expect(page.locator("#wizard-title")).to_be_focused()
    expect(page.locator("#wizard-title")).to_have_text("Import users: step 3 of 5, Levels")
    expect(dialog.get_by_text("No level chosen yet")).to_be_visible()
    dialog.get_by_label("Basis").check()
    expect(dialog.get_by_text("No level chosen yet")).to_be_hidden()  # not while one is ticked
    dialog.get_by_role("button", name="Next: mails").click()
    dialog.get_by_role("button", name="Next: confirm").click()
    expect(dialog.locator("#import-summary")).to_contain_text("2 new users")
    # Back and forth from the last step, by its own link and by the browser's.
    dialog.get_by_role("link", name="Back").click()
    expect(dialog.get_by_role("button", name="Next: confirm")).to_be_visible()
    dialog.get_by_role("button", name="Next: confirm").click()
    expect(dialog.locator("#import-summary")).to_contain_text("2 new users")
    page.go_back()  # the mails step again (as a page of its own, when not in the history)
    expect(page.get_by_role("button", name="Next: confirm")).to_be_visible()
    page.get_by_role("button", name="Next: confirm").click()
    expect(page.locator("#import-summary")).to_contain_text("2 new users")
    page.get_by_role("button", name="Start import").click()

    expect(page).to_have_url(re.compile(r"/imports/[\w-]+$"))
    expect(page.locator(".badge")).to_have_text("done", timeout=30_000)
    expect(page.get_by_text("users created")).to_be_visible()

    db.session.expire_all()
    zoe = db.session.scalar(select(User).where(User.email == "zoe@celik.nl"))
    assert zoe is not None and [level.name for level in zoe.levels] == ["Basis"]


def test_a_comma_separated_windows_file_is_read_and_the_admin_can_read_it_otherwise(
    page, admin, app_ctx, tmp_path
):
    path = tmp_path / "uit-excel.csv"
    path.write_bytes("email,first_name,last_name\r\nzoe@celik.nl,Zoë,Çelik\r\n".encode("cp1252"))
    log_in_as_admin(page, admin)
    page.get_by_role("link", name="Import", exact=True).click()
    dialog = page.get_by_role("dialog", name="Import users")
    dialog.get_by_role("link", name="Next: upload your file").click()
    dialog.get_by_label(
        "Choose or drop your filled-in file (.csv, .xlsx, .ods or .xls)"
    ).set_input_files(path)
    dialog.get_by_role("button", name="Upload and check").click()
    expect(dialog.locator("#preview-totals")).to_contain_text(
        "read as: comma-separated, Windows-1252, 1 row."
    )
    expect(dialog.locator("#row-2")).to_contain_text("Zoë")

    dialog.get_by_text("Not read right? Choose how to read the file").click()
    dialog.get_by_label("Characters (encoding)").select_option("Mac Roman")
    dialog.get_by_role("button", name="Read again").click()
    expect(dialog.locator("#preview-totals")).to_contain_text("comma-separated, Mac Roman")
    expect(dialog.locator("#row-2")).not_to_contain_text("Zoë")  # the wrong choice shows


def _to_the_levels_step(page, admin, tmp_path):
    """Log in, upload a one-person file in the wizard and go on to step 3; the wizard."""
    path = tmp_path / "people.csv"
    path.write_bytes(b"email;first_name;last_name\r\nanna@x.nl;Anna;Jansen\r\n")
    log_in_as_admin(page, admin)
    page.get_by_role("link", name="Import", exact=True).click()
    dialog = page.get_by_role("dialog", name="Import users")
    dialog.get_by_role("link", name="Next: upload your file").click()
    dialog.get_by_label(
        "Choose or drop your filled-in file (.csv, .xlsx, .ods or .xls)"
    ).set_input_files(path)
    dialog.get_by_role("button", name="Upload and check").click()
    dialog.get_by_role("link", name="Next: choose levels").click()
    return dialog


def test_the_sample_mail_changes_language_as_the_admin_chooses_it(page, admin, app_ctx, tmp_path):
    dialog = _to_the_levels_step(page, admin, tmp_path)
    dialog.get_by_role("button", name="Next: mails").click()

    samples = dialog.locator("#mail-samples")
    expect(samples).to_contain_text("Hello Anna,")
    expect(page.locator("#wizard-title")).to_be_focused()  # the step has settled
    dialog.get_by_label(
        "Language of the mails to people without a language in the file"
    ).select_option("nl")
    # No submit: the sample follows the choice at once, and the choice stays.
    expect(samples).to_contain_text("Hallo Anna,")
    expect(samples).not_to_contain_text("Hello Anna,")
    expect(dialog.get_by_role("button", name="Next: confirm")).to_be_visible()


def test_an_ended_session_mid_wizard_says_so_and_comes_back_to_the_step(
    page, admin, app_ctx, tmp_path
):
    dialog = _to_the_levels_step(page, admin, tmp_path)
    expect(page.locator("#wizard-title")).to_have_text("Import users: step 3 of 5, Levels")
    step = re.sub(r"^https?://[^/]+", "", page.url)

    page.context.clear_cookies()  # the session ended (expired, or logged out elsewhere)
    dialog.get_by_role("button", name="Next: mails").click()

    # Not a silent button: the login page says why, and logging in comes back to the step.
    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(
        page.get_by_text("Your session has ended: log in again. Your import is kept.")
    ).to_be_visible()
    page.get_by_label("E-mail address").fill(admin.email)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(re.escape(step) + "$"))
    expect(page.locator("#wizard-title")).to_have_text("Import users: step 3 of 5, Levels")
