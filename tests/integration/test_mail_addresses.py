"""Each mail on its own: an address like müller@example.de (letters beyond ASCII before the @,
which needs the mail server's SMTPUTF8, RFC 6531) is mailed where the server offers it, fails
that one mail with its reason where it does not, and is refused in the preview when the app
is told the server cannot (MAIL_SMTPUTF8 off); the mails before and after it go out once. A
file name with a line break never breaks the report's subject, and a server that accepts and
never answers ends each try after MAIL_TIMEOUT, counted.

The mail servers are real: aiosmtpd on loopback, with and without SMTPUTF8, and a socket that
accepts and stays silent.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from huddle import devmail, jobs
from huddle.extensions import db
from huddle.imports import drafts
from huddle.models import ImportMail, ImportRun, User

from ..helpers import (
    csv_file,
    end_retry_pauses,
    free_port,
    run_worker,
    start,
    upload,
    walk_to_start,
)

PEOPLE = (
    "anna@x.nl;Anna;;Jansen;;;;;",
    "müller@example.de;Jörg;;Müller;;;;en;",
    "zoe@x.nl;Zoë;;Bakker;;;;;",
)


def _import(admin_client, *lines: str) -> ImportRun:
    _, public_id = upload(admin_client, csv_file(*lines))
    walk_to_start(admin_client, public_id, notify_new=True)
    assert start(admin_client, public_id).status_code in (200, 302)
    return db.session.scalar(select(ImportRun).where(ImportRun.public_id == public_id))


def _mails(import_id: int) -> dict[str, ImportMail]:
    db.session.expire_all()
    rows = db.session.execute(
        select(User.email, ImportMail).join(User).where(ImportMail.import_id == import_id)
    )
    return {email: record for email, record in rows}


def test_an_address_with_letters_before_the_at_is_mailed_with_smtputf8(
    app, admin_client, app_ctx, smtp_sink
):
    run = _import(admin_client, *PEOPLE)
    run_worker(app)  # the import, then its mails

    messages = devmail.list_messages(smtp_sink["outbox"])
    assert sorted(m.to for m in messages) == [
        "admin@example.org",
        "anna@x.nl",
        "müller@example.de",
        "zoe@x.nl",
    ]
    welcome = next(m for m in messages if m.to == "müller@example.de")
    assert "Jörg" in welcome.text and "/set-password/" in welcome.text
    assert {record.status for record in _mails(run.id).values()} == {"sent"}


@pytest.fixture
def sink_without_smtputf8(app, tmp_path, monkeypatch):
    """A mail server that does not offer SMTPUTF8, as the app's mail server."""
    port = free_port()
    sink = devmail.start_sink(tmp_path, port=port, smtputf8=False)
    monkeypatch.setattr(app.extensions["mail"], "port", port)
    yield tmp_path
    sink.stop()


def test_a_server_without_smtputf8_fails_that_one_mail_and_sends_the_rest(
    app, admin_client, app_ctx, sink_without_smtputf8
):
    run = _import(admin_client, *PEOPLE)
    run_worker(app)

    arrived = sorted(m.to for m in devmail.list_messages(sink_without_smtputf8))
    assert arrived == ["admin@example.org", "anna@x.nl", "zoe@x.nl"]
    mails = _mails(run.id)
    mueller = mails.pop("müller@example.de")
    assert (mueller.status, mueller.attempts) == ("pending", 1)
    assert "SMTPUTF8" in mueller.last_error and "another address" in mueller.last_error
    assert {(m.status, m.attempts) for m in mails.values()} == {("sent", 1)}

    # Its next try is its own: nobody else gets a second mail.
    end_retry_pauses(run.id)
    assert jobs.send_import_mails(run.id) == (0, 1)
    assert len(devmail.list_messages(sink_without_smtputf8)) == 3
    assert _mails(run.id)["müller@example.de"].attempts == 2


def test_with_smtputf8_off_the_preview_refuses_such_an_address_on_its_cell(
    app, admin_client, dutch_admin_client, app_ctx, monkeypatch
):
    monkeypatch.setitem(app.config, "MAIL_SMTPUTF8", False)
    page, _ = upload(admin_client, csv_file(*PEOPLE))
    html = page.get_data(as_text=True)
    assert "“müller@example.de” has letters like “ü” before the @" in html
    assert 'id="err-3-email"' in html  # on line 3, the address's cell

    html = upload(dutch_admin_client, csv_file(*PEOPLE))[0].get_data(as_text=True)
    assert "heeft letters als “ü” vóór de @" in html
    assert "SMTPUTF8 staat uit" in html


def test_a_file_name_with_a_line_break_makes_a_one_line_report_subject(
    app, admin, app_ctx, smtp_sink
):
    # As a script or another client may name it (a browser's form cannot send it).
    run = drafts.create_draft("leden\r\nlijst.csv", csv_file(PEOPLE[0]), admin=admin)
    assert drafts.start(run)
    run_worker(app)
    report = next(
        m for m in devmail.list_messages(smtp_sink["outbox"]) if m.to == "admin@example.org"
    )
    assert report.subject == "Import finished: leden lijst.csv"


@pytest.fixture
def silent_server(app, monkeypatch):
    """A mail server that accepts connections and never says a word."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    monkeypatch.setattr(app.extensions["mail"], "port", listener.getsockname()[1])
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 1.0)
    yield
    stop.set()
    thread.join(timeout=5)
    for connection in held:
        connection.close()
    listener.close()


def test_a_server_that_never_answers_ends_each_try_after_the_timeout(
    app, admin_client, app_ctx, silent_server
):
    run = _import(admin_client, PEOPLE[0], PEOPLE[2])
    began = time.monotonic()
    run_worker(app)  # the import, and its mails' first try
    end_retry_pauses(run.id)
    assert jobs.send_import_mails(run.id) == (0, 3)  # a second try
    assert time.monotonic() - began < 20  # not 180 s a try
    mails = _mails(run.id)
    assert {(m.status, m.attempts) for m in mails.values()} == {("pending", 2)}
    assert all("timed out" in m.last_error for m in mails.values())


class HangsUpOnTheSecondMail(devmail.OutboxHandler):
    """A server that, at the second mail, says it must close (421) and hangs up."""

    def __init__(self, outbox_dir):
        super().__init__(outbox_dir)
        self.mails = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.mails += 1
        if self.mails == 2:
            return "421 Too busy, closing the connection"
        return await super().handle_DATA(server, session, envelope)


def test_a_server_that_hangs_up_fails_that_mail_once_and_the_rest_go_on(
    app, admin_client, app_ctx, tmp_path, monkeypatch
):
    port = free_port()
    controller = Controller(HangsUpOnTheSecondMail(tmp_path), hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setattr(app.extensions["mail"], "port", port)
    try:
        run = _import(admin_client, *PEOPLE)
        run_worker(app)
    finally:
        controller.stop()
    # The report went first, on its own; then the first welcome was refused (421, the
    # server's second mail) and the other two went over a new connection.
    assert sorted(m.to for m in devmail.list_messages(tmp_path)) == [
        "admin@example.org",
        "müller@example.de",
        "zoe@x.nl",
    ]
    mails = _mails(run.id)
    refused = mails.pop("anna@x.nl")
    assert (refused.status, refused.attempts) == ("pending", 1)
    assert "421" in refused.last_error or "closing" in refused.last_error
    assert {(m.status, m.attempts) for m in mails.values()} == {("sent", 1)}
