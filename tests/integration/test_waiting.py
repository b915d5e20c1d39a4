"""A queued import, export or mail says what it waits for, in the admin's language, and never
talks of "workers": another import that is running, jobs before it in line, or background
jobs that are not running at all.

Real parts: a ``flask worker`` process, the embedded Redis, and the test's database, held
locked by the test (as a long import of someone else's would hold it) so that the first
import stays running while the page of the next one is read.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time

from sqlalchemy import text
from sqlalchemy.engine import make_url

from huddle.extensions import db
from huddle.models import ImportRun, ImportStatus

from ..helpers import (
    csv_file,
    run_worker,
    start,
    start_worker,
    stop_process,
    upload,
    walk_to_start,
    worker_env,
)


def _queued_import(client, email: str, filename: str) -> str:
    _, public_id = upload(client, csv_file(f"{email};Iemand;;Anders;;;;;"), filename=filename)
    walk_to_start(client, public_id, notify_new=False, notify_existing=False)
    assert start(client, public_id).status_code == 302
    return public_id


@contextlib.contextmanager
def _users_locked(app):
    """Hold a write lock that any import needs: SQLite's one writer, or PostgreSQL's users
    table; reading stays possible, as while a long import runs."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(url.database, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        return
    with db.engine.connect() as connection:
        connection.execute(text("LOCK TABLE users IN EXCLUSIVE MODE"))
        try:
            yield
        finally:
            connection.rollback()


def _progress(client, public_id: str) -> str:
    return client.get(f"/imports/{public_id}/progress").get_data(as_text=True)


def _until(seconds: float, check, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds} s: {what}")


def test_a_queued_import_names_what_it_waits_for(app, admin_client, dutch_admin_client, smtp_sink):
    first = _queued_import(admin_client, "een@x.nl", "eerste.csv")
    second = _queued_import(admin_client, "twee@x.nl", "tweede.csv")
    third = _queued_import(dutch_admin_client, "drie@x.nl", "derde.csv")
    # Nobody takes background jobs yet.
    page = _progress(admin_client, second)
    assert "Waiting: background jobs are not running at the moment" in page
    assert "System page" in page and "worker" not in page.lower()

    worker = None
    try:
        with _users_locked(app):
            worker = start_worker(worker_env(app, smtp_sink), "--queues", "imports")
            # The worker took the first import, which now waits for the lock.
            _until(
                20,
                lambda: "another import is running" in _progress(admin_client, second),
                "the second import says another one runs",
            )
            page = _progress(admin_client, second)
            assert "Waiting: another import is running. This one starts when it is done." in page
            assert "worker" not in page.lower()
            # The first is under way: "Starting…" while its status waits for the lock too
            # (SQLite), "Importing…" once it could say it runs (PostgreSQL locks only users).
            running = _progress(admin_client, first)
            assert "Waiting" not in running
            assert "Starting…" in running or "Importing…" in running
            dutch = _progress(dutch_admin_client, third)
            assert "Wachten: er staat 1 taak voor deze in de rij." in dutch
        # The lock is gone: all three run, one after the other.
        for public_id in (first, second, third):
            _until(30, lambda public_id=public_id: _done(public_id), f"import {public_id} done")
    finally:
        if worker is not None:
            stop_process(worker)


def _done(public_id: str) -> bool:
    db.session.expire_all()
    status = db.session.scalar(db.select(ImportRun.status).where(ImportRun.public_id == public_id))
    return status == ImportStatus.DONE


def test_mails_that_nobody_sends_say_so(app, admin_client, smtp_sink):
    _, public_id = upload(admin_client, csv_file("nieuw@x.nl;Nieuw;;Lid;;;;;"))
    walk_to_start(admin_client, public_id, notify_new=True, notify_existing=False)
    start(admin_client, public_id)
    # The import and its report go (the imports queue); no one takes the mails queue.
    run_worker(app, queues=("imports",))
    part = admin_client.get(f"/imports/{public_id}/delivery").get_data(as_text=True)
    assert "1</span> waiting to be sent" in part
    assert "Waiting: background jobs are not running at the moment" in part
    assert "tried again" not in part and "worker" not in part.lower()
