"""The README's pictures, taken in Chromium while doing what they show: Users › Manage, each
wizard step (with a preview that has errors), an import in progress and a welcome mail in the
Outbox. `make screenshots` writes them to docs/screenshots/; in the suite they go to a
temporary folder, so that the tour keeps working."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from huddle import progress
from huddle.demo import create_demo_data
from huddle.extensions import db
from huddle.imports import drafts
from huddle.models import Level

from ..helpers import csv_file, log_in_as_admin, wait_for_mail


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("HUDDLE_SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _wait_for(check, timeout: float = 60):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_a_tour_of_the_product_in_pictures(
    page, admin, app_ctx, tmp_path, shots, smtp_sink, worker_process
):
    create_demo_data(user_count=120)
    page.set_viewport_size({"width": 1200, "height": 820})
    log_in_as_admin(page, admin)
    taken = []

    def shoot(name: str, target=None) -> None:
        path = shots / f"{name}.png"
        # caret="initial": hiding the caret would inject a style, which the CSP refuses.
        (target or page).screenshot(path=path, caret="initial")
        taken.append(path)

    page.goto("/users")
    expect(page.locator(".result-count")).to_contain_text("of 122 users")
    shoot("users-manage")

    file = tmp_path / "nieuwe-leden.csv"
    file.write_bytes(
        csv_file(
            "sanne.visser@gemeente.nl;Sanne;;Visser;+31 6 12345678;Gemeente Utrecht;Adviseur;nl;",
            "ahmed.elamrani@school.nl;Ahmed;el;Amrani;;Het Lyceum;Docent;nl;",
            "noor.dejong@example;Noor;de;Jong;;;;nl;",
            "emma.smith@example.com;Emma;;Smith;;;;en;",
            "piet@@bakker.nl;Piet;;;;;;nl;",
            "lars.bakker@bedrijf.nl;Lars;;Bakker;;Bakker BV;;nl;Trainers",
        )
    )
    page.get_by_role("link", name="Import", exact=True).click()
    dialog = page.get_by_role("dialog", name="Import users")
    expect(dialog).to_be_visible()
    shoot("wizard-1-template", dialog)
    dialog.get_by_role("link", name="Next: upload your file").click()
    dialog.get_by_label(
        "Choose or drop your filled-in file (.csv, .xlsx, .ods or .xls)"
    ).set_input_files(file)
    dialog.get_by_role("button", name="Upload and check").click()
    expect(dialog.locator("#preview-totals")).to_contain_text("2 invalid rows")
    shoot("wizard-2-preview-with-errors", dialog)
    dialog.get_by_role("link", name="Next: choose levels").click()
    dialog.get_by_label("Basis").check()
    shoot("wizard-3-levels", dialog)
    dialog.get_by_role("button", name="Next: mails").click()
    expect(dialog.get_by_text("Welcome mail", exact=True)).to_be_visible()
    shoot("wizard-4-mails", dialog)
    dialog.get_by_role("button", name="Next: confirm").click()
    expect(dialog.locator("#import-summary")).to_be_visible()
    shoot("wizard-5-confirm", dialog)
    dialog.get_by_role("button", name="Start import").click()
    expect(page.locator(".badge")).to_have_text("done", timeout=30_000)

    # A large import, caught while it runs.
    level = db.session.query(Level).filter_by(name="Basis").one()
    rows = (f"lid{i}@vereniging.nl;Lid;;{i};;;;nl;" for i in range(60_000))
    run = drafts.create_draft("ledenlijst.csv", csv_file(*rows), admin=admin)
    run.level_ids, run.notify_new = [level.id], False
    db.session.commit()
    drafts.start(run)
    _wait_for(lambda: (progress.read("import", run.id) or {}).get("done", 0) >= 3000)
    page.goto(f"/imports/{run.public_id}")
    expect(page.get_by_role("progressbar", name="Import progress")).to_be_visible()
    shoot("import-progress")

    wait_for_mail(smtp_sink["outbox"], count=4, timeout=30)  # three welcome mails, a report
    page.goto("/outbox")
    expect(page.locator(".result-count")).to_contain_text("mails")
    shoot("outbox")
    page.get_by_role("link", name="Welcome to Huddle: choose your password").first.click()
    expect(page.locator("iframe.mail-html")).to_be_visible()
    shoot("outbox-welcome-mail")

    for path in taken:
        assert path.stat().st_size > 10_000, path
