"""A mail server that refuses some addresses, and the Outbox that finds any mail.

A server that answers every fifth recipient with 550 ("no such mailbox", RFC 5321 4.2.3):
those mails fail with the server's own answer after their tries, every other arrives once.
The Outbox then lists them all, a page at a time, found by address or subject and filtered by
status and import.

Real parts: an aiosmtpd server (refusing at RCPT, as Postfix does for an unknown local
recipient), the mail job, the test's database and the Outbox pages.
"""

from __future__ import annotations

import collections
import re

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from huddle import devmail, jobs
from huddle.extensions import db
from huddle.imports import delivery, drafts
from huddle.imports.applying import apply_import
from huddle.models import MAX_MAIL_ATTEMPTS, ImportMail, MailStatus

from ..helpers import csv_file, end_retry_pauses, free_port

PEOPLE = 60


class RefusingOutbox(devmail.OutboxHandler):
    """Keeps what it takes, like the dev sink; refuses lid05@, lid10@, … at RCPT."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        number = re.match(r"lid(\d+)@", address)
        if number and int(number.group(1)) % 5 == 0:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def refusing_server(app, smtp_sink, monkeypatch):
    """The refusing server, keeping its mails where the Outbox reads them."""
    port = free_port()
    controller = Controller(RefusingOutbox(smtp_sink["outbox"]), hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setattr(app.extensions["mail"], "port", port)
    yield
    controller.stop()


def _import_with_welcomes(admin, filename: str, people: list[str]):
    run = drafts.create_draft(filename, csv_file(*people), admin=admin)
    run.notify_new = True
    db.session.commit()
    return apply_import(run)


def _send_every_try(run_id: int) -> None:
    for _ in range(MAX_MAIL_ATTEMPTS):
        end_retry_pauses(run_id)
        jobs.send_import_mails(run_id)


def test_refused_addresses_fail_with_the_reason_and_the_others_arrive_once(
    app, admin, admin_client, app_ctx, smtp_sink, refusing_server
):
    people = [f"lid{i:02d}@x.nl;Lid;;{i};;;;;" for i in range(1, PEOPLE + 1)]
    run = _import_with_welcomes(admin, "leden.csv", people)
    other = _import_with_welcomes(admin, "nieuw.csv", ["nieuw@y.nl;Nieuw;;Lid;;;;;"])
    for import_id in (run.id, other.id):
        _send_every_try(import_id)

    arrived = collections.Counter(
        m.to for m in devmail.list_messages(smtp_sink["outbox"], limit=1000)
    )
    refused = {f"lid{i:02d}@x.nl" for i in range(5, PEOPLE + 1, 5)}
    assert set(arrived) == {f"lid{i:02d}@x.nl" for i in range(1, PEOPLE + 1)} - refused | {
        "admin@example.org",
        "nieuw@y.nl",
    }
    assert arrived["admin@example.org"] == 2  # a report of each import
    assert max(arrived.values()) == 2 and sum(arrived.values()) == PEOPLE - 12 + 3
    failed = db.session.scalars(
        select(ImportMail).where(ImportMail.status == MailStatus.FAILED.value)
    ).all()
    assert len(failed) == len(refused) == 12
    assert {mail.attempts for mail in failed} == {MAX_MAIL_ATTEMPTS}
    assert {mail.last_error for mail in failed} == {
        "The mail server refused this mail: 550 5.1.1 No such mailbox here"
    }
    assert delivery.mail_delivery(run).failed == 12

    # The Outbox: 48 welcomes and 2 reports sent, 1 welcome of the other import, 12 failed.
    everything = admin_client.get("/outbox").get_data(as_text=True)
    assert "63 mails, page 1 of 2" in everything
    assert everything.count("<tr") == 1 + 50  # the heading and a page
    # Failed mails first, each with the server's answer and its import.
    assert "Failed after 5 tries: The mail server refused this mail: 550 5.1.1" in everything
    assert f'href="/imports/{run.public_id}">leden.csv</a>' in everything
    second = admin_client.get("/outbox?page=2", headers={"HX-Request": "true"})
    assert second.get_data(as_text=True).count("<tr") == 1 + 13
    assert "<html" not in second.get_data(as_text=True)  # the table alone, for htmx

    failed_only = admin_client.get("/outbox?status=failed").get_data(as_text=True)
    assert "12 mails" in failed_only and "lid05@x.nl" in failed_only
    assert "lid01@x.nl" not in failed_only

    found = admin_client.get("/outbox?q=LID07").get_data(as_text=True)
    assert found.count("<tr") == 1 + 1
    assert "lid07@x.nl" in found and "Welcome to Huddle" in found

    reports = admin_client.get("/outbox?q=Import+finished").get_data(as_text=True)
    assert "2 mails" in reports and "Import finished: nieuw.csv" in reports

    of_other = admin_client.get(f"/outbox?import={other.public_id}").get_data(as_text=True)
    assert "2 mails" in of_other and "nieuw@y.nl" in of_other and "lid01@x.nl" not in of_other
    # The filter offers both imports, by file name.
    assert f'<option value="{run.public_id}"' in everything and "nieuw.csv (" in everything

    nothing = admin_client.get("/outbox?q=%25_no-one").get_data(as_text=True)
    assert "No mails match." in nothing
