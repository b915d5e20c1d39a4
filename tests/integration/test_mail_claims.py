"""Several mail workers on one batch: every mail goes out once. A worker killed mid-batch
leaves at most the one mail it was handing to the server to arrive twice (the rule the README
states: at least once), and a database that refuses to record a send never makes that mail
go out more than twice.

Real parts: ``flask worker`` processes, the embedded Redis, an aiosmtpd server, and the
test's database (SQLite, or PostgreSQL with DATABASE_URL).
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from huddle import devmail, jobs
from huddle.extensions import db
from huddle.imports import claims, delivery, drafts
from huddle.imports.applying import apply_import
from huddle.models import ImportMail, ImportRun, MailKind, User, utcnow

from ..helpers import (
    all_exit_cleanly,
    csv_file,
    slow_sink,
    start_worker,
    stop_process,
    worker_env,
)

BATCH = 2_000


def _batch_import(admin, count: int) -> ImportRun:
    """An import of ``count`` new people with welcome mails, applied: its mails are queued."""
    people = [f"lid{i:04d}@x.nl;Lid;;{i};;;;;" for i in range(count)]
    run = drafts.create_draft("leden.csv", csv_file(*people), admin=admin)
    run.notify_new = True
    db.session.commit()
    run = apply_import(run)
    delivery.queue_import_mails(run.id)  # its report and its welcomes, as the worker does
    return run


def _worker(app, sink_port: int, *extra: str, timeout: str = "30") -> subprocess.Popen:
    env = {**worker_env(app, {"port": sink_port}), "MAIL_TIMEOUT": timeout}
    return start_worker(env, "--queues", "imports,mails", *extra)


def _arrived(outbox) -> collections.Counter:
    return collections.Counter(m.to for m in devmail.list_messages(outbox, limit=10 * BATCH))


def _all_sent(import_id: int) -> bool:
    # Asked of the database, not the sink's folder: reading 2,000 mails again and again
    # would slow the sink (it runs in this process) more than anything under test.
    db.session.expire_all()
    return not db.session.scalar(
        select(func.count())
        .select_from(ImportMail)
        .where(ImportMail.import_id == import_id, ImportMail.status != "sent")
    )


def _until(seconds: float, check, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds} s: {what}")


def test_two_mail_workers_share_a_batch_and_send_each_mail_once(app, admin, app_ctx, tmp_path):
    run = _batch_import(admin, BATCH)
    with slow_sink(tmp_path, 0.002) as port:
        all_exit_cleanly([_worker(app, port, "--burst") for _ in range(2)])

    arrived = _arrived(tmp_path)
    people = {f"lid{i:04d}@x.nl" for i in range(BATCH)}
    assert set(arrived) == people | {admin.email}
    assert set(arrived.values()) == {1}  # nobody twice
    db.session.expire_all()
    statuses = db.session.execute(
        select(ImportMail.status, func.count())
        .where(ImportMail.import_id == run.id)
        .group_by(ImportMail.status)
    ).all()
    assert statuses == [("sent", BATCH + 1)]
    # Both workers took part: each mail records the worker that sent it.
    senders = db.session.scalars(
        select(ImportMail.claimed_by).where(ImportMail.import_id == run.id)
    ).all()
    assert len({sender.split(":")[1] for sender in senders}) == 2


def test_a_worker_killed_halfway_leaves_no_one_without_a_mail_and_at_most_one_twice(
    app, admin, app_ctx, tmp_path
):
    run = _batch_import(admin, BATCH)
    # A short MAIL_TIMEOUT gives a short lease (6 × it): the killed worker's claims are
    # taken over seconds later instead of minutes.
    with slow_sink(tmp_path, 0.004) as port:
        first = _worker(app, port, timeout="0.5")
        try:
            _until(120, lambda: len(list(tmp_path.glob("*.eml"))) >= BATCH // 3, "a third out")
            os.killpg(first.pid, signal.SIGKILL)  # the machine dies: worker and its job
            first.wait()
        finally:
            stop_process(first)
        killed_at = len(_arrived(tmp_path))
        assert killed_at < BATCH  # it died halfway

        second = _worker(app, port, timeout="0.5")
        try:
            _until(240, lambda: _all_sent(run.id), "every mail recorded sent")
            time.sleep(2)  # anything more that was going to arrive
        finally:
            stop_process(second)

    arrived = _arrived(tmp_path)
    assert set(arrived) == {f"lid{i:04d}@x.nl" for i in range(BATCH)} | {admin.email}
    twice = [address for address, count in arrived.items() if count > 1]
    assert len(twice) <= 1 and max(arrived.values()) <= 2
    db.session.expire_all()
    mails = db.session.scalars(select(ImportMail).where(ImportMail.import_id == run.id)).all()
    assert {m.status for m in mails} == {"sent"}
    # Only a mail the server may have had when the worker died is sent again as such.
    assert sum(m.interrupted for m in mails) <= 1


@pytest.fixture
def refuse_recording_a_send(app_ctx):
    """A database that takes the "sending" mark but refuses to record that bram@ was sent,
    as a full disk would: a trigger, on SQLite or PostgreSQL."""
    refuse = "SELECT id FROM users WHERE email = 'bram@x.nl'"
    if db.engine.dialect.name == "postgresql":
        statements = [
            "CREATE FUNCTION refuse_sent() RETURNS trigger AS $$ BEGIN "
            f"IF NEW.status = 'sent' AND NEW.user_id IN ({refuse}) THEN "
            "RAISE EXCEPTION 'could not extend file: No space left on device'; END IF; "
            "RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_sent BEFORE UPDATE ON import_mails "
            "FOR EACH ROW EXECUTE FUNCTION refuse_sent()",
        ]
        undo = ["DROP TRIGGER refuse_sent ON import_mails", "DROP FUNCTION refuse_sent()"]
    else:
        statements = [
            "CREATE TRIGGER refuse_sent BEFORE UPDATE OF status ON import_mails "
            f"WHEN NEW.status = 'sent' AND NEW.user_id IN ({refuse}) "
            "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        ]
        undo = ["DROP TRIGGER refuse_sent"]
    for statement in statements:
        db.session.execute(text(statement))
    db.session.commit()
    yield
    db.session.rollback()
    for statement in undo:
        db.session.execute(text(statement))
    db.session.commit()


def test_a_send_the_database_cannot_record_goes_out_at_most_twice(
    app, admin, app_ctx, smtp_sink, refuse_recording_a_send
):
    people = ("anna@x.nl;Anna;;Jansen;;;;;", "bram@x.nl;Bram;;Smit;;;;;", "cor@x.nl;Cor;;Vos;;;;;")
    run = drafts.create_draft("mensen.csv", csv_file(*people), admin=admin)
    run.notify_new = True
    db.session.commit()
    run = apply_import(run)
    bram = db.session.scalar(select(User.id).where(User.email == "bram@x.nl"))

    def bram_mail() -> ImportMail:
        db.session.expire_all()
        return db.session.scalar(
            select(ImportMail).where(
                ImportMail.user_id == bram, ImportMail.kind == MailKind.WELCOME.value
            )
        )

    # The server takes bram's welcome, the database refuses to record it: the job stops.
    with pytest.raises(Exception, match="disk is full|No space left"):
        jobs.send_import_mails(run.id)
    db.session.rollback()
    assert bram_mail().status == "sending"
    assert jobs.send_import_mails(run.id)[1] == 0  # the others go; bram's is still held
    assert bram_mail().attempts == 1

    # Its lease runs out: sent once more (at least once), and once more refused.
    later = utcnow() + claims.lease() + timedelta(seconds=1)
    assert claims.recover_interrupted(run.id, now=later) == 1
    assert bram_mail().status == "pending"
    with pytest.raises(Exception, match="disk is full|No space left"):
        jobs.send_import_mails(run.id)
    db.session.rollback()

    # Found "sending" a second time: given up on, never sent a third time.
    much_later = utcnow() + 2 * claims.lease() + timedelta(seconds=2)
    assert claims.recover_interrupted(run.id, now=much_later) == 1
    mail = bram_mail()
    assert mail.status == "failed" and "may have arrived" in mail.last_error
    assert jobs.send_import_mails(run.id) == (0, 0)
    arrived = _arrived(smtp_sink["outbox"])
    assert arrived["bram@x.nl"] == 2
    assert arrived["anna@x.nl"] == arrived["cor@x.nl"] == arrived[admin.email] == 1


def test_a_send_limit_spaces_the_mails_evenly(app, admin, app_ctx, smtp_sink, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_RATE_PER_MINUTE", 240)  # one every 0.25 s
    people = [f"p{i}@x.nl;P;;{i};;;;;" for i in range(4)]
    run = drafts.create_draft("mensen.csv", csv_file(*people), admin=admin)
    run.notify_new = True
    db.session.commit()
    run = apply_import(run)

    began = time.monotonic()
    assert jobs.send_import_mails(run.id) == (5, 0)  # four welcomes and the report
    # Five slots a quarter of a second apart: the last starts at least 1 s after the first.
    assert time.monotonic() - began >= 0.95
    assert len(_arrived(smtp_sink["outbox"])) == 5
