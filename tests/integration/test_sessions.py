"""Sessions that end: after logging out, or after a new password through a set-password link,
a copied session cookie and a copied "remember me" cookie open nothing any more; logging in
starts a new session with a new CSRF token.

Real parts: the app served by gunicorn (two processes, so a cookie made by one is read by
the other), the test's database, cookies as a browser keeps them.
"""

from __future__ import annotations

import copy
import http.cookiejar

import pytest

from huddle.tokens import make_set_password_token

from ..helpers import (
    ADMIN_PASSWORD,
    WebClient,
    csrf_token,
    csv_file,
    free_port,
    upload,
    web_process,
    worker_env,
)


@pytest.fixture
def web(app, smtp_sink):
    with web_process(worker_env(app, smtp_sink), free_port()) as base:
        yield base


def _logged_in(base: str, email: str, *, remember: bool = False) -> WebClient:
    client = WebClient(base)
    fields = {"email": email, "password": ADMIN_PASSWORD}
    if remember:
        fields["remember"] = "y"
    status, headers, _ = client.post("/login", fields)
    assert status == 302 and headers["Location"].endswith("/users")
    return client


def _copy(client: WebClient, *, only: str | None = None) -> WebClient:
    """Another browser with the cookies of ``client`` (or only the one named ``only``)."""
    jar = http.cookiejar.CookieJar()
    for cookie in client.cookies:
        if only is None or cookie.name == only:
            jar.set_cookie(copy.copy(cookie))
    return WebClient(client.base, jar)


def _opens_users(client: WebClient) -> bool:
    status, _, _ = client.get("/users")
    return status == 200


def test_a_copied_cookie_opens_nothing_after_logout(web, admin):
    client = _logged_in(web, admin.email, remember=True)
    session_copy = _copy(client, only="session")
    remember_copy = _copy(client, only="remember_token")
    elsewhere = _logged_in(web, admin.email)  # the same admin on another computer
    assert _opens_users(session_copy) and _opens_users(remember_copy)

    status, headers, _ = client.post("/logout", {})
    assert status == 302 and headers["Location"].endswith("/login")
    assert not _opens_users(client)
    assert not _opens_users(session_copy)
    assert not _opens_users(remember_copy)
    assert not _opens_users(elsewhere)  # logging out ends it everywhere
    # Logging in again works, and gives a session of its own.
    assert _opens_users(_logged_in(web, admin.email))


def test_a_new_password_ends_every_session(web, admin, app_ctx):
    client = _logged_in(web, admin.email, remember=True)
    remember_copy = _copy(client, only="remember_token")
    stranger = WebClient(web)
    link = f"/set-password/{make_set_password_token(admin)}"
    new = "een-heel-nieuw-wachtwoord-2026"
    status, _, _ = stranger.post(link, {"password": new, "confirm": new})
    assert status == 302

    assert not _opens_users(client)
    assert not _opens_users(remember_copy)
    fresh = WebClient(web)
    status, _, _ = fresh.post("/login", {"email": admin.email, "password": new})
    assert status == 302 and _opens_users(fresh)


def test_logging_in_and_out_gives_a_new_csrf_token(web, admin):
    client = WebClient(web)
    before = client.csrf_token()
    status, _, _ = client.post("/login", {"email": admin.email, "password": ADMIN_PASSWORD})
    assert status == 302
    logged_in = client.csrf_token()
    assert logged_in != before  # a token seen before logging in is worth nothing after
    client.post("/logout", {})
    assert client.csrf_token() not in (before, logged_in)


def test_an_ended_session_mid_wizard_says_so_and_comes_back_to_the_step(admin_client, admin):
    _, public_id = upload(admin_client, csv_file("anna@x.nl;Anna;;Jansen;;;;;"))
    step = f"/imports/{public_id}/levels"
    token = admin_client.csrf
    admin_client.delete_cookie("session")  # expired, or cleared by the browser
    response = admin_client.post(
        step,
        data={"csrf_token": token},
        headers={"HX-Request": "true", "HX-Current-URL": f"http://huddle.test{step}"},
    )
    # Not a silent 400: the whole page goes to the login page, which says why.
    login = response.headers["HX-Redirect"]
    assert login == f"/login?next={step}"
    login_page = admin_client.get(login).get_data(as_text=True)
    assert "Your session has ended: log in again. Your import is kept." in login_page
    fields = {
        "email": admin.email,
        "password": ADMIN_PASSWORD,
        "csrf_token": csrf_token(admin_client),
    }
    assert admin_client.post(login, data=fields).headers["Location"] == step
    assert "Levels" in admin_client.get(step).get_data(as_text=True)


def test_a_page_older_than_the_session_says_so_in_place(admin_client, admin):
    _, public_id = upload(admin_client, csv_file("anna@x.nl;Anna;;Jansen;;;;;"))
    old_token = admin_client.csrf
    # Logged out and in again (in another tab): the session, and so the token, is new.
    admin_client.post("/logout", data={"csrf_token": old_token})
    fields = {
        "email": admin.email,
        "password": ADMIN_PASSWORD,
        "csrf_token": csrf_token(admin_client),
    }
    assert admin_client.post("/login", data=fields).status_code == 302
    step = f"/imports/{public_id}/levels"
    response = admin_client.post(
        step,
        data={"csrf_token": old_token},
        headers={"HX-Request": "true", "HX-Current-URL": f"http://huddle.test{step}"},
    )
    assert response.status_code == 422 and response.headers["HX-Retarget"] == "#alerts"
    answer = response.get_data(as_text=True)
    assert "This page is older than your session" in answer and f'href="{step}"' in answer
