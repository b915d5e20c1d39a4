"""Fixtures with real parts: a migrated database (SQLite, or PostgreSQL when DATABASE_URL points
at one), the embedded Redis (or REDIS_URL), an SMTP server on a free loopback port, and a real
``flask worker`` process. The helpers the tests call are in helpers.py.

Without Chromium the browser tests (tests/browser/) are left out, with one line saying so;
under CI (CI=true) they are required."""

from __future__ import annotations

import contextvars
import os
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import delete, text

from huddle import create_app, devmail, queue, search_index
from huddle.config import database_url
from huddle.extensions import db
from huddle.models import Export, Level, User, UserLevel

from .helpers import (
    ADMIN_PASSWORD,
    CHROMIUM,
    MEMBER_PASSWORD,
    csrf_token,
    free_port,
    log_in,
    make_user,
    start_worker,
    stop_process,
    worker_env,
)

BROWSER_TESTS = Path(__file__).resolve().parent / "browser"


def pytest_collection_modifyitems(config, items):
    """On a machine without Chromium (and not under CI), leave the browser tests out."""
    if Path(CHROMIUM).exists() or os.environ.get("CI") == "true":
        return
    left_out = [item for item in items if BROWSER_TESTS in Path(item.path).parents]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if item not in left_out]
        config.browser_tests_left_out = len(left_out)


def pytest_terminal_summary(terminalreporter, config):
    """The one line that says the browser tests were left out, and how to get them."""
    count = getattr(config, "browser_tests_left_out", 0)
    if count:
        terminalreporter.write_line(
            f"{count} browser tests skipped: no Chromium at {CHROMIUM}. "
            "Install it (apt-get install chromium) to run them; under CI they are required.",
            yellow=True,
        )


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
        response = contextvars.Context().run(super().open, *args, **kwargs)
        # Werkzeug spools a large upload's body to a temporary file and leaves it open once
        # the request is done (a browser's body ends with its connection): close it here.
        request = getattr(response, "request", None)
        if request is not None:
            request.environ["wsgi.input"].close()
        return response


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
    # Close the pooled connections now: left to the garbage collector, PostgreSQL's are
    # dropped open (a ResourceWarning) while pytest is still watching.
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
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
        search_index.catch_up()  # an import's users left to index: none now, and none after
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


@pytest.fixture
def admin(app_ctx) -> User:
    return make_user("admin@example.org", password=ADMIN_PASSWORD, admin=True, first_name="Ada")


@pytest.fixture
def member(app_ctx) -> User:
    return make_user("member@example.org", password=MEMBER_PASSWORD, first_name="Mo")


@pytest.fixture
def admin_client(app, admin):
    client = app.test_client()
    assert log_in(client, admin.email, ADMIN_PASSWORD).status_code == 302
    client.csrf = csrf_token(client, "/users")
    return client


@pytest.fixture
def dutch_admin_client(app, app_ctx):
    """A Dutch admin (their pages and reports in Dutch), logged in."""
    dutch = make_user("beheer@example.org", password=ADMIN_PASSWORD, admin=True, language="nl")
    client = app.test_client()
    assert log_in(client, dutch.email, ADMIN_PASSWORD).status_code == 302
    client.csrf = csrf_token(client, "/users")
    return client


@pytest.fixture
def member_client(app, member):
    client = app.test_client()
    assert log_in(client, member.email, MEMBER_PASSWORD).status_code == 302
    client.csrf = csrf_token(client, "/account")
    return client


@pytest.fixture
def worker_process(app, smtp_sink):
    """A real `flask worker` process on the test's database, Redis and SMTP server."""
    process = start_worker(worker_env(app, smtp_sink))
    yield process
    stop_process(process)
