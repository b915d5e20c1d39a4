"""Logging in and out, the login brake, forgotten passwords and set-password links."""

import re
import time

import itsdangerous.timed
from itsdangerous import URLSafeTimedSerializer

from huddle.extensions import db
from huddle.models import User
from huddle.tokens import make_set_password_token

from ..helpers import ADMIN_PASSWORD, csrf_token, log_in, make_user, run_worker, wait_for_mail


def test_admin_logs_in_and_lands_on_users(app, admin):
    client = app.test_client()
    response = log_in(client, "ADMIN@example.org ", ADMIN_PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/users"
    assert "Users" in client.get("/users").get_data(as_text=True)


def test_session_cookie_is_httponly_and_samesite_lax(app, admin):
    client = app.test_client()
    response = log_in(client, admin.email, ADMIN_PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_wrong_password_and_unknown_address_get_the_same_message(app, admin):
    client = app.test_client()
    wrong = log_in(client, admin.email, "not the password")
    unknown = log_in(client, "nobody@example.org", ADMIN_PASSWORD)
    message = "That e-mail address and password do not match."
    assert wrong.status_code == unknown.status_code == 401
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)
    assert client.get("/users").status_code == 302  # still not logged in


def test_user_without_password_cannot_log_in(app, app_ctx):
    make_user("new@example.org")
    client = app.test_client()
    assert log_in(client, "new@example.org", "").status_code == 200  # form error, no login
    assert client.get("/account").status_code == 302


def test_login_without_csrf_token_is_refused(app, admin):
    client = app.test_client()
    response = client.post("/login", data={"email": admin.email, "password": ADMIN_PASSWORD})
    # Not logged in; the login form again, saying why.
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "The page had expired" in client.get("/login").get_data(as_text=True)
    assert client.get("/users").status_code == 302


def test_htmx_post_with_token_in_header_is_accepted_and_without_is_refused(admin_client, app_ctx):
    user = make_user("x@example.org")
    url = f"/users/{user.id}/levels/999/remove"
    refused = admin_client.post(url, headers={"HX-Request": "true"})
    assert refused.status_code == 422  # said in place: nothing was changed
    assert "nothing was changed" in refused.get_data(as_text=True)
    ok = admin_client.post(url, headers={"HX-Request": "true", "X-CSRFToken": admin_client.csrf})
    assert ok.status_code == 404  # past CSRF; the level does not exist


def test_next_parameter_only_redirects_within_the_site(app, admin):
    client = app.test_client()
    token = csrf_token(client)
    data = {"email": admin.email, "password": ADMIN_PASSWORD, "csrf_token": token}
    response = client.post("/login?next=https://evil.example/", data=data)
    assert response.headers["Location"] == "/users"
    client = app.test_client()
    data["csrf_token"] = csrf_token(client)
    response = client.post("/login?next=/levels", data=data)
    assert response.headers["Location"] == "/levels"


def test_logout_needs_post_and_ends_the_session(admin_client):
    assert admin_client.get("/logout").status_code == 405
    response = admin_client.post("/logout", data={"csrf_token": admin_client.csrf})
    assert response.status_code == 302
    assert admin_client.get("/users").status_code == 302


def test_member_sees_own_account_with_levels(member_client, member, app_ctx):
    from huddle.models import Level, UserLevel

    level = Level(name="Basis")
    db.session.add(level)
    db.session.flush()
    db.session.add(UserLevel(user_id=member.id, level_id=level.id))
    db.session.commit()
    html = member_client.get("/account").get_data(as_text=True)
    assert "Mo User" in html
    assert "Basis" in html
    assert member_client.get("/users").status_code == 403


def _link_from(message) -> str:
    match = re.search(r"http://huddle\.test(/set-password/\S+)", message.text)
    assert match, message.text
    return match.group(1)


def test_forgot_password_mails_a_link_that_sets_a_password_once(app, member, smtp_sink):
    client = app.test_client()
    token = csrf_token(client, "/forgot-password")
    response = client.post(
        "/forgot-password", data={"email": "Member@Example.org", "csrf_token": token}
    )
    assert response.status_code == 302
    run_worker(app)

    [message] = wait_for_mail(smtp_sink["outbox"])
    assert message.to == "member@example.org"
    assert "member password" not in message.text  # never a password in a mail
    path = _link_from(message)

    page = client.get(path)
    assert page.status_code == 200
    token = csrf_token(client, path)
    new = {"password": "a brand new secret", "confirm": "a brand new secret", "csrf_token": token}
    assert client.post(path, data=new).status_code == 302
    assert log_in(app.test_client(), "member@example.org", "a brand new secret").status_code == 302

    # The same link a second time: refused.
    reused = client.get(path)
    assert reused.status_code == 404
    assert "used already" in reused.get_data(as_text=True)


def test_forgot_password_for_unknown_address_says_the_same_and_sends_nothing(app, smtp_sink):
    client = app.test_client()
    token = csrf_token(client, "/forgot-password")
    response = client.post(
        "/forgot-password",
        data={"email": "nobody@example.org", "csrf_token": token},
        follow_redirects=True,
    )
    assert "If an account exists for that address" in response.get_data(as_text=True)
    run_worker(app)
    time.sleep(0.3)
    assert list((smtp_sink["outbox"]).glob("*.eml")) == []


def test_set_password_validates_length_and_match(app, app_ctx):
    user = make_user("new@example.org")
    path = f"/set-password/{make_set_password_token(user)}"
    client = app.test_client()
    token = csrf_token(client, path)
    short = client.post(path, data={"password": "short", "confirm": "short", "csrf_token": token})
    assert short.status_code == 200
    assert "Choose at least 10 characters." in short.get_data(as_text=True)
    differ = client.post(
        path, data={"password": "long enough 1", "confirm": "long enough 2", "csrf_token": token}
    )
    assert "The two passwords differ." in differ.get_data(as_text=True)
    db.session.refresh(user)
    assert not user.has_password


def test_expired_link_is_refused(app, app_ctx, monkeypatch):
    user = make_user("old@example.org")
    hours = app.config["PASSWORD_LINK_MAX_AGE_HOURS"]
    past = time.time() - (hours * 3600 + 60)
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: past)
    token = make_set_password_token(user)
    monkeypatch.undo()
    response = app.test_client().get(f"/set-password/{token}")
    assert response.status_code == 410
    assert "This link has expired" in response.get_data(as_text=True)


def test_tampered_or_forged_link_is_refused(app, app_ctx):
    user = make_user("t@example.org")
    token = make_set_password_token(user)
    payload, signature = token.rsplit(".", 1)
    tampered = f"{payload}.{signature[::-1]}"
    assert app.test_client().get(f"/set-password/{tampered}").status_code == 404
    # A well-formed token signed with another key, for another user.
    forged = URLSafeTimedSerializer("not-our-key", salt="set-password").dumps({"uid": user.id})
    assert app.test_client().get(f"/set-password/{forged}").status_code == 404
    assert app.test_client().get("/set-password/garbage").status_code == 404
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == ""


def test_forgot_password_with_redis_down_says_so_instead_of_failing(app, member):
    client = app.test_client()
    token = csrf_token(client, "/forgot-password")
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    try:
        for address in (member.email, "nobody@example.org"):
            response = client.post("/forgot-password", data={"email": address, "csrf_token": token})
            assert response.status_code == 503
            assert "We cannot send mail right now" in response.get_data(as_text=True)
    finally:
        app.config["REDIS_URL"] = None


def test_too_many_failed_log_ins_make_the_account_wait(app, admin, member):
    client = app.test_client()
    for _ in range(5):
        assert log_in(client, admin.email, "guess").status_code == 401
    # Now even the right password waits: guessing on would tell nothing.
    blocked = log_in(client, admin.email, ADMIN_PASSWORD)
    assert blocked.status_code == 429
    assert "Too many failed log-ins. Try again in 15 minutes" in blocked.get_data(as_text=True)
    # Another account from the same address still logs in.
    assert log_in(app.test_client(), member.email, "member password 1").status_code == 302


def test_many_failures_from_one_address_make_that_address_wait(app, admin, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_ADDRESS", 3)
    client = app.test_client()
    for i in range(3):
        assert log_in(client, f"someone{i}@example.org", "guess").status_code == 401
    assert log_in(client, admin.email, ADMIN_PASSWORD).status_code == 429


def test_a_success_starts_the_accounts_count_again(app, admin):
    client = app.test_client()
    for _ in range(4):
        log_in(client, admin.email, "guess")
    assert log_in(client, admin.email, ADMIN_PASSWORD).status_code == 302
    client = app.test_client()
    for _ in range(4):
        assert log_in(client, admin.email, "guess").status_code == 401
    assert log_in(client, admin.email, ADMIN_PASSWORD).status_code == 302


def test_with_redis_down_logging_in_still_works(app, admin, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")  # nothing there
    client = app.test_client()
    assert log_in(client, admin.email, "guess").status_code == 401
    assert log_in(client, admin.email, ADMIN_PASSWORD).status_code == 302
