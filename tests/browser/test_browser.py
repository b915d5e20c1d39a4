"""In a real Chromium: an admin logs in, searches, and selects users."""

import re

from playwright.sync_api import expect

from ..helpers import ADMIN_PASSWORD, make_user


def test_log_in_search_and_select_two_users(page, admin, app_ctx):
    for i in range(60):
        make_user(f"person{i}@example.org", first_name="Person", last_name=f"Number {i}")
    for first in ("Jan", "Janneke", "Johan"):
        make_user(f"{first.lower()}@jansen.nl", first_name=first, last_name="Jansen")

    page.goto("/users")
    expect(page).to_have_url(re.compile(r"/login\?next=/users$"))
    page.get_by_label("E-mail address").fill(admin.email)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    expect(page.locator(".result-count")).to_contain_text("of 64 users")
    page.wait_for_load_state("load")  # htmx is ready

    page.get_by_label("Search by name or e-mail").press_sequentially("jansen", delay=30)
    expect(page.locator(".result-count")).to_contain_text("Showing 1–3 of 3 users")
    assert "q=jansen" in page.url  # the search is in the address bar, so reload keeps it

    page.get_by_label("Select Jan Jansen").check()
    page.get_by_label("Select Johan Jansen").check()
    expect(page.locator("#selection-count")).to_have_text("2 selected")
    expect(page.get_by_label("Select all users on this page")).to_have_js_property(
        "indeterminate", True
    )

    page.get_by_label("Select all users on this page").check()
    expect(page.locator("#selection-count")).to_have_text("3 selected")
    page.get_by_role("button", name="Clear selection").click()
    expect(page.locator("#selection-bar")).to_be_hidden()


def test_browser_back_after_a_search_restores_the_page_without_errors(page, admin, app_ctx):
    # The page fixture fails the test on any console error or uncaught page error.
    for first in ("Jan", "Johan"):
        make_user(f"{first.lower()}@jansen.nl", first_name=first, last_name="Jansen")
    page.goto("/login")
    page.get_by_label("E-mail address").fill(admin.email)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto("/users")
    page.wait_for_load_state("load")
    page.get_by_label("Search by name or e-mail").press_sequentially("johan", delay=30)
    expect(page.locator(".result-count")).to_contain_text("of 1 user")
    page.get_by_role("link", name="Levels").first.click()
    expect(page.get_by_role("heading", name="Levels")).to_be_visible()
    page.go_back()
    expect(page.locator(".result-count")).to_contain_text("of 1 user")
    page.go_back()
    expect(page.locator(".result-count")).to_contain_text("of 3 users")
    page.go_forward()
    expect(page.locator(".result-count")).to_contain_text("of 1 user")
