"""Mail never blocks anything else: while a worker sends 5,000 welcome mails to a mail server
that takes 20 ms a mail, a small import started afterwards is done within 10 s and its report
arrives within 10 s more, and an export of 100 users is ready (and mailed) within 10 s.

Real parts: two ``flask worker`` processes laid out as ``flask dev`` starts them (one for
imports and exports, one for mails), the embedded Redis, and an aiosmtpd server made slow.
"""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from huddle import devmail
from huddle.exports.selection import ticked
from huddle.exports.service import start_export
from huddle.extensions import db
from huddle.imports import drafts
from huddle.models import (
    Export,
    ExportStatus,
    ImportMail,
    ImportRun,
    ImportStatus,
    MailKind,
    MailStatus,
    User,
)

from ..helpers import csv_file, start_worker, stop_process, worker_env
from ..helpers import slow_sink as slow_sink_at

BIG = 5_000
MAIL_SECONDS = 0.02


@pytest.fixture
def slow_sink(tmp_path):
    with slow_sink_at(tmp_path, MAIL_SECONDS) as port:
        yield {"port": port, "outbox": tmp_path}


@pytest.fixture
def workers(app, slow_sink, smtp_sink):
    """The two workers of ``flask dev``, sending to the slow server."""
    env = {**worker_env(app, smtp_sink), "MAIL_PORT": str(slow_sink["port"])}
    processes = [start_worker(env, "--queues", queues) for queues in ("imports,exports", "mails")]
    yield processes
    for process in processes:
        stop_process(process, seconds=2)  # a batch of slow mails is not waited for


def _within(seconds: float, check, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.expire_all()
        if value := check():
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s: {what}")


def _report_sent(import_id: int) -> bool:
    report = db.session.scalar(
        select(ImportMail).where(
            ImportMail.import_id == import_id, ImportMail.kind == MailKind.REPORT.value
        )
    )
    return report is not None and report.status == MailStatus.SENT


def test_a_big_mail_batch_holds_up_neither_an_import_nor_an_export(
    app, admin, admin_client, app_ctx, slow_sink, workers
):
    people = [f"persoon{i}@x.nl;Persoon;;{i};;;;;" for i in range(BIG)]
    big = drafts.create_draft("iedereen.csv", csv_file(*people), admin=admin)
    assert drafts.start(big)
    _within(60, lambda: db.session.get(ImportRun, big.id).status == ImportStatus.DONE, "big")
    # The batch is under way: some welcomes are out, most still to go.
    _within(30, lambda: len(devmail.list_messages(slow_sink["outbox"], limit=50)) > 20, "mails")

    # The page says how far the sending is and how long it still takes (about 50 a second).
    part = admin_client.get(f"/imports/{big.public_id}/delivery").get_data(as_text=True)
    assert re.search(r"Sending: [\d,]+ of 5,001 sent, about \d minutes? left\.", part), part
    assert "tried again" not in part

    small = drafts.create_draft("klein.csv", csv_file("a@y.nl;A;;B;;;;;"), admin=admin)
    assert drafts.start(small)
    user_ids = db.session.scalars(select(User.id).order_by(User.id).limit(100)).all()
    export = start_export(admin, ticked(user_ids), "csv")
    began = time.monotonic()

    _within(10, lambda: db.session.get(ImportRun, small.id).status == ImportStatus.DONE, "small")
    done = time.monotonic() - began
    _within(10, lambda: db.session.get(Export, export.id).status == ExportStatus.DONE, "export")
    _within(10, lambda: db.session.get(Export, export.id).mailed, "the export's mail")
    _within(10 + 10 - done, lambda: _report_sent(small.id), "the small import's report")

    # The server has them; and the batch is far from done: it held up nothing.
    messages = devmail.list_messages(slow_sink["outbox"], limit=10_000)
    subjects = [m.subject for m in messages]
    assert subjects.count("Import finished: klein.csv") == 1
    assert subjects.count("Your export of 100 users is ready") == 1
    assert len(messages) < BIG
