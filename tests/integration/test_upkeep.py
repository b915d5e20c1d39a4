"""The database is the truth, Redis only the messenger: when Redis loses the jobs (restarted
empty) or RQ gives up on an import's job (its process killed, and the retry too), the
workers' upkeep finds it. Waiting mails are queued again and arrive once; a lost import is
marked failed and its admin gets the failure report."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from huddle import devmail, queue
from huddle.extensions import db
from huddle.imports import drafts
from huddle.imports.upkeep import upkeep
from huddle.models import ImportMail, ImportRun, ImportStatus, utcnow

from ..helpers import csv_file, end_retry_pauses, free_port, run_worker

PEOPLE = ("anna@x.nl;Anna;;Jansen;;;;;", "bram@x.nl;Bram;;Smit;;;;;")


def _forget_every_job(app) -> None:
    """Redis restarted with nothing in it (as far as RQ goes)."""
    connection = queue.get_redis()
    for key in connection.scan_iter("rq:*"):
        connection.delete(key)


def test_mails_whose_retry_redis_lost_are_queued_again_and_arrive_once(
    app, admin, app_ctx, smtp_sink, monkeypatch
):
    monkeypatch.setattr(app.extensions["mail"], "port", free_port())  # the server is down
    run = drafts.create_draft("mensen.csv", csv_file(*PEOPLE), admin=admin)
    assert drafts.start(run)
    run_worker(app)  # the import; its mails' first try fails, a retry is scheduled
    mails = db.session.scalars(select(ImportMail).where(ImportMail.import_id == run.id)).all()
    assert {(m.status, m.attempts) for m in mails} == {("pending", 1)}

    _forget_every_job(app)
    monkeypatch.undo()  # the server is back
    end_retry_pauses(run.id)
    assert upkeep().mails_requeued_for == 0  # too soon: the import may still be queuing them
    assert upkeep(now=utcnow() + timedelta(minutes=3)).mails_requeued_for == 1
    run_worker(app)

    arrived = sorted(m.to for m in devmail.list_messages(smtp_sink["outbox"]))
    assert arrived == ["admin@example.org", "anna@x.nl", "bram@x.nl"]
    db.session.expire_all()
    assert {m.status for m in mails} == {"sent"}
    # Once sent, nothing is queued again.
    assert upkeep(now=utcnow() + timedelta(minutes=3)).mails_requeued_for == 0


def test_an_import_whose_job_was_lost_fails_and_mails_its_admin(app, admin, app_ctx, smtp_sink):
    run = drafts.create_draft("kwijt.csv", csv_file(*PEOPLE), admin=admin)
    assert drafts.start(run)
    _forget_every_job(app)  # its job is gone, as after both tries were killed

    assert upkeep().lost_imports == 1
    run_worker(app)
    db.session.expire_all()
    run = db.session.get(ImportRun, run.id)
    assert run.status == ImportStatus.FAILED and "stopped unexpectedly" in run.error
    [report] = devmail.list_messages(smtp_sink["outbox"])
    assert (report.to, report.subject) == ("admin@example.org", "Import failed: kwijt.csv")
    assert "Nothing was imported" in report.text
    assert db.session.scalar(select(ImportRun.status).where(ImportRun.id == run.id)) == "failed"
