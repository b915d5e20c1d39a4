"""Fixtures with real parts: a migrated database (SQLite, or PostgreSQL when DATABASE_URL points
at one), the embedded Redis (or REDIS_URL), and an SMTP server on a free loopback port."""

from __future__ import annotations

import contextvars
import os
import re
import time
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import delete, text

from huddle import create_app, devmail, queue
from huddle.config import database_url
from huddle.extensions import db
from huddle.models import Export, Level, User, UserLevel

from .processes import free_port

ADMIN_PASSWORD = "correct horse battery"
MEMBER_PASSWORD = "member password 1"


def _test_database_url(instance: Path) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return database_url(None, instance)
    # The suite empties the database it is given; refuse one that is not obviously for tests.
    name = url.rsplit("/", 1)[-1].split("?")[0]
    if "test" not in name:
        pytest.exit(f"DATABASE_URL must name a test database (its name contains 'test'): {name}")
    return database_url(url, instance)


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as in production.

    Without this, a test that holds an app context open (to look at the database) would share
    ``g`` (and so the logged-in user) with every request it makes.
    """

    def open(self, *args, **kwargs):
        # Buffered: a streamed body (a download) is read inside that same context too.
        kwargs.setdefault("buffered", True)
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(scope="session")
def smtp_sink(tmp_path_factory):
    outbox = tmp_path_factory.mktemp("outbox")
    port = free_port()
    controller = devmail.start_sink(outbox, port=port)
    yield {"port": port, "outbox": outbox}
    controller.stop()


@pytest.fixture(scope="session")
def app(tmp_path_factory, smtp_sink):
    instance = tmp_path_factory.mktemp("instance")
    os.environ["HUDDLE_INSTANCE_PATH"] = str(instance)
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": _test_database_url(instance),
            "REDIS_DB_FILE": str(instance / "redis.db"),
            "RQ_QUEUE": "huddle-test",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp_sink["port"],
            "DEV_MAIL_SINK": True,
            "MAIL_SUPPRESS_SEND": False,  # Flask-Mail would skip sending under TESTING
            "OUTBOX_DIR": str(smtp_sink["outbox"]),
            "HUDDLE_BASE_URL": "http://huddle.test",
        }
    )
    app.test_client_class = IsolatedClient
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
    yield app
    queue.stop_embedded_server()


@pytest.fixture(autouse=True)
def _clean_state(request, smtp_sink):
    """Every test starts with empty tables, an empty queue and an empty outbox."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        for model in (Export, UserLevel, User, Level):
            db.session.execute(delete(model))
        db.session.commit()
        connection = queue.get_redis()
        if app.config["REDIS_URL"]:
            for key in connection.scan_iter("rq:*"):
                connection.delete(key)
        else:
            connection.flushdb()
    devmail.clear(smtp_sink["outbox"])


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield
        db.session.remove()


def make_user(email: str, *, password: str | None = None, admin: bool = False, **fields) -> User:
    user = User(
        email=email,
        first_name=fields.pop("first_name", "Test"),
        last_name=fields.pop("last_name", "User"),
        is_admin=admin,
        **fields,
    )
    if password:
        user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


@pytest.fixture
def admin(app_ctx) -> User:
    return make_user("admin@example.org", password=ADMIN_PASSWORD, admin=True, first_name="Ada")


@pytest.fixture
def member(app_ctx) -> User:
    return make_user("member@example.org", password=MEMBER_PASSWORD, first_name="Mo")


_TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token of the client's session, read from a page as a browser would."""
    html = client.get(path).get_data(as_text=True)
    match = _TOKEN.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def log_in(client, email: str, password: str):
    token = csrf_token(client)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


@pytest.fixture
def admin_client(app, admin):
    client = app.test_client()
    assert log_in(client, admin.email, ADMIN_PASSWORD).status_code == 302
    client.csrf = csrf_token(client, "/users")
    return client


@pytest.fixture
def member_client(app, member):
    client = app.test_client()
    assert log_in(client, member.email, MEMBER_PASSWORD).status_code == 302
    client.csrf = csrf_token(client, "/account")
    return client


def run_worker(app) -> None:
    """Run every queued job in this process, as a real RQ worker on the real Redis."""
    queue.make_worker(app, simple=True).work(burst=True)


def wait_for_mail(outbox: Path, count: int = 1, timeout: float = 5.0):
    """The messages the SMTP sink received, once there are ``count`` of them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = devmail.list_messages(outbox)
        if len(messages) >= count:
            return messages
        time.sleep(0.05)
    raise AssertionError(f"expected {count} mail(s), the SMTP server got {len(messages)}")


# The browser harness's fixtures (tests/browser.py), registered once for every test module.
from .browser import browser, live_server, page, worker_process  # noqa: E402,F401
