"""The wizard as a Dutch and an English admin see it, on a laptop (1280 px) and a phone
(390 px): every word in the page's language, the "What changes" column on screen without
scrolling, nothing wider than the phone, and no console error (the page fixture fails on
any). The pictures go to the README's folder with `make screenshots`."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from huddle.extensions import db
from huddle.models import Level

from ..helpers import csv_file, log_in_as_admin, make_user

WORDS = {
    "en": {
        "import": "Import",
        "dialog": "Import users",
        "next_upload": "Next: upload your file",
        "file": "Choose or drop your filled-in file (.csv, .xlsx, .ods or .xls)",
        "upload": "Upload and check",
        "invalid": "1 invalid row",
        "changes": "What changes",
        "next_levels": "Next: choose levels",
        "next_mails": "Next: mails",
        "next_confirm": "Next: confirm",
        "sentence": "1 new user, with Basis. 1 existing user: 1 gains Basis, of whom 1 also "
        "gets their details updated. Nobody loses anything.",
    },
    "nl": {
        "import": "Import",
        "dialog": "Gebruikers importeren",
        "next_upload": "Volgende: je bestand uploaden",
        "file": "Kies of sleep je ingevulde bestand hierheen (.csv, .xlsx, .ods of .xls)",
        "upload": "Uploaden en controleren",
        "invalid": "1 ongeldige rij",
        "changes": "Wat verandert",
        "next_levels": "Volgende: levels kiezen",
        "next_mails": "Volgende: mails",
        "next_confirm": "Volgende: bevestigen",
        "sentence": "1 nieuwe gebruiker, met Basis. 1 bestaande gebruiker: 1 krijgt Basis, van "
        "wie 1 ook bijgewerkte gegevens krijgt. Niemand verliest iets.",
    },
}


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("HUDDLE_SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.parametrize("language", ["en", "nl"])
@pytest.mark.parametrize("width", [1280, 390])
def test_the_wizard_fits_the_screen_in_either_language(
    page, admin, app_ctx, tmp_path, shots, language, width
):
    words = WORDS[language]
    db.session.add(Level(name="Basis"))
    make_user("piet.van.den.bergh@bakkerij-de-korenbloem.example.org", first_name="Piet",
              last_name="Bergh")  # fmt: skip
    path = tmp_path / "leden.csv"
    # The full template with a long address, most optional columns left empty, one row bad.
    path.write_bytes(
        csv_file(
            "piet.van.den.bergh@bakkerij-de-korenbloem.example.org;Piet;van den;Bergh;;;;;",
            "zoe@celik.nl;Zoë;;Çelik;;;;;",
            "geen-adres;Anna;;Jansen;;;;;",
        )
    )
    page.set_viewport_size({"width": width, "height": 860})
    log_in_as_admin(page, admin)
    admin.language = language
    db.session.commit()
    page.goto("/users")
    page.wait_for_load_state("load")
    page.get_by_role("link", name=words["import"], exact=True).click()
    dialog = page.get_by_role("dialog", name=words["dialog"])
    dialog.get_by_role("link", name=words["next_upload"]).click()
    dialog.get_by_label(words["file"]).set_input_files(path)
    dialog.get_by_role("button", name=words["upload"]).click()
    expect(dialog.locator("#preview-totals")).to_contain_text(words["invalid"])

    changes = dialog.get_by_role("columnheader", name=words["changes"])
    if width >= 1280:
        box = changes.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, box
    # Nothing is wider than the screen but the table, which scrolls in its own box.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page is {overflow} px wider than the screen"
    page.screenshot(path=shots / f"wizard-preview-{language}-{width}.png", caret="initial")

    dialog.get_by_role("link", name=words["next_levels"]).click()
    dialog.get_by_label("Basis").check()
    dialog.get_by_role("button", name=words["next_mails"]).click()
    dialog.get_by_role("button", name=words["next_confirm"]).click()
    expect(dialog.locator("#import-summary")).to_contain_text(words["sentence"])
    page.screenshot(path=tmp_path / f"wizard-confirm-{language}-{width}.png", caret="initial")
