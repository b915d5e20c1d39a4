"""In a real Chromium: tick two users, export them, and get the download offered."""

from playwright.sync_api import expect

from huddle.users import listing

from ..helpers import log_in_as_admin, make_user


def test_export_two_ticked_users_and_download_the_file(page, admin, app_ctx, worker_process):
    make_user("jan@jansen.nl", first_name="Jan", last_name="Jansen", phone="+31 6 11")
    make_user("zoe@celik.nl", first_name="Zoë", last_name="Çelik")
    make_user("piet@berg.nl", first_name="Piet", last_name="Berg")
    log_in_as_admin(page, admin)

    page.get_by_label("Select Jan Jansen").check()
    page.get_by_label("Select Zoë Çelik").check()
    export_button = page.get_by_role("button", name="Export users (2)")
    export_button.click()
    dialog = page.get_by_role("dialog", name="Export 2 users")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("CSV, separated by semicolons (opens in Excel)")).to_be_checked()
    dialog.get_by_role("button", name="Export", exact=True).click()

    expect(dialog).to_be_hidden()
    status = page.locator("#export-status")
    expect(status).to_contain_text("The export of 2 users is being prepared")
    expect(page.locator("#selection-bar")).to_be_hidden()  # the selection starts afresh
    download_link = status.get_by_role("link", name="Download huddle-users-")
    expect(download_link).to_be_visible(timeout=20_000)  # the worker process made the file

    with page.expect_download() as download_info:
        download_link.click()
    data = download_info.value.path().read_bytes().decode("utf-8-sig")
    assert data.splitlines()[1:] == [
        "jan@jansen.nl;Jan;;Jansen;'+31 6 11;;;;",
        "zoe@celik.nl;Zoë;;Çelik;;;;;",
    ]


def test_select_everyone_matching_a_search_beyond_the_page(page, admin, app_ctx):
    for i in range(60):
        make_user(f"lid{i}@club.nl", first_name="Lid", last_name=f"Nummer {i}")
    log_in_as_admin(page, admin)
    page.get_by_label("Search by name or e-mail").press_sequentially("club", delay=20)
    expect(page.locator(".result-count")).to_contain_text("of 60 users")

    page.get_by_label("Select all users on this page").check()
    expect(page.locator("#selection-count")).to_have_text("50 selected")
    page.get_by_role("button", name="Select all 60 users that match").click()
    expect(page.locator("#selection-count")).to_have_text("All 60 matching users selected")
    expect(page.get_by_role("button", name="Export users (60)")).to_be_focused()
    page.get_by_role("button", name="Export users (60)").click()
    expect(page.get_by_role("dialog", name="Export 60 users")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Export 60 users")).to_be_hidden()


def test_select_everyone_matching_a_search_that_found_more_than_it_counted(
    page, admin, app_ctx, monkeypatch
):
    # A search counts up to a bound (10,000; 40 here): the selection says "more than".
    monkeypatch.setattr(listing, "COUNT_UP_TO", 40)
    for i in range(60):
        make_user(f"lid{i}@club.nl", first_name="Lid", last_name=f"Nummer {i}")
    log_in_as_admin(page, admin)
    page.get_by_label("Search by name or e-mail").press_sequentially("club", delay=20)
    expect(page.locator(".result-count")).to_contain_text("of more than 40 users")

    page.get_by_label("Select all users on this page").check()
    expect(page.locator("#selection-count")).to_have_text("50 selected")
    page.get_by_role("button", name="Select all users that match (more than 40)").click()
    expect(page.locator("#selection-count")).to_have_text(
        "All users that match selected (more than 40)"
    )
    export = page.get_by_role("button", name="Export users (more than 40)")
    expect(export).to_be_focused()
    export.click()
    dialog = page.get_by_role("dialog", name="Export more than 40 users")
    expect(dialog).to_be_visible()
    # The export itself takes every user that matches: it counts them all.
    dialog.get_by_role("button", name="Export", exact=True).click()
    expect(page.locator("#export-status")).to_contain_text("The export of 60 users")
