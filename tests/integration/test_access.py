"""Every route is closed to anonymous visitors and members, except the few that must be open."""

import pytest
from werkzeug.routing import IntegerConverter

from huddle.access import MEMBER_ENDPOINTS, PUBLIC_ENDPOINTS

from ..helpers import csrf_token, csv_file, upload


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint in MEMBER_ENDPOINTS:
            continue
        converters = rule._converters
        values = {
            arg: 1 if isinstance(converters[arg], IntegerConverter) else "x"
            for arg in rule.arguments
        }
        path = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, path


def test_there_are_admin_routes_to_check(app):
    endpoints = {endpoint for endpoint, _, _ in _routes(app)}
    assert {"users.manage", "users.detail", "levels.index", "system.status"} <= endpoints


@pytest.mark.parametrize("who", ["anonymous", "member"])
def test_every_admin_route_refuses_anonymous_and_members(app, who, request):
    client = request.getfixturevalue("member_client") if who == "member" else app.test_client()
    # A valid token, so that only access control can refuse.
    token = client.csrf if who == "member" else csrf_token(client, "/login")
    checked = 0
    for endpoint, method, path in _routes(app):
        response = client.open(path, method=method, data={"csrf_token": token})
        if who == "anonymous":
            assert response.status_code == 302, (endpoint, method, response.status_code)
            assert response.headers["Location"].startswith("/login"), endpoint
        else:
            assert response.status_code == 403, (endpoint, method, response.status_code)
        checked += 1
    assert checked >= 10


def test_anonymous_htmx_request_is_sent_to_login_page(app):
    response = app.test_client().get("/users?q=a", headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"].startswith("/login")


def test_members_page_needs_login(app):
    response = app.test_client().get("/account")
    assert response.status_code == 302


def test_a_draft_is_its_uploaders_until_it_starts(app, admin_client, dutch_admin_client):
    _, public_id = upload(admin_client, csv_file("anna@x.nl;Anna;;Jansen;;;;;", "kapot;;;;;;;;"))
    other = dutch_admin_client  # another admin of the same Huddle
    for path in (
        f"/imports/{public_id}/check",
        f"/imports/{public_id}/rows?tab=all",
        f"/imports/{public_id}/problems.csv",
        f"/imports/{public_id}/levels",
        f"/imports/{public_id}",
    ):
        response = other.get(path, follow_redirects=True)
        page = response.get_data(as_text=True)
        assert response.status_code == 403, path
        assert "wordt voorbereid door admin@example.org" in page, path
        assert "anna@x.nl" not in page and "kapot" not in page, path
    # Nor can they change or end it.
    token = {"csrf_token": other.csrf}
    assert other.post(f"/imports/{public_id}/discard", data=token).status_code == 403
    fix = {**token, "column": "email", "value": "nieuw@x.nl"}
    assert other.post(f"/imports/{public_id}/rows/3", data=fix).status_code == 403
    # Its own admin still has it, as it was.
    page = admin_client.get(f"/imports/{public_id}/check").get_data(as_text=True)
    assert "anna@x.nl" in page and "kapot" in page
