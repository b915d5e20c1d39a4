"""Every route is closed to anonymous visitors and members, except the few that must be open."""

import pytest
from werkzeug.routing import IntegerConverter

from huddle.access import MEMBER_ENDPOINTS, PUBLIC_ENDPOINTS

from ..helpers import csrf_token


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
