"""Answers that differ between htmx and a plain request say so (``Vary: HX-Request``), so that
no cache between the admin and the app hands a fragment to a page load, or a page to htmx."""

HTMX = {"HX-Request": "true"}


def test_users_manage_is_a_page_or_its_table_and_varies_by_htmx(admin_client):
    page = admin_client.get("/users")
    table = admin_client.get("/users", headers=HTMX)
    assert "<html" in page.get_data(as_text=True)
    assert "<html" not in table.get_data(as_text=True)
    for response in (page, table):
        assert "HX-Request" in response.headers.get("Vary", "")


def test_a_wizard_step_is_a_page_or_a_fragment_and_varies_by_htmx(admin_client):
    page = admin_client.get("/imports/new")
    step = admin_client.get("/imports/new", headers=HTMX)
    assert "<html" in page.get_data(as_text=True)
    assert step.get_data(as_text=True).lstrip().startswith('<section id="wizard"')
    for response in (page, step):
        assert "HX-Request" in response.headers.get("Vary", "")


def test_a_page_that_is_the_same_for_both_does_not_vary(admin_client):
    assert "HX-Request" not in admin_client.get("/levels").headers.get("Vary", "")
