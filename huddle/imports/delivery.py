"""The mails an import owes: which are waiting, how each try ended, and how they stand for the
admin (sent, waiting or failed), with sending the failed ones again.

Composing and sending a mail is ``huddle.mail``'s work, joined to these records by the mail
job (``huddle.jobs``); this module only keeps the records.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from .. import queue
from ..extensions import db
from ..models import (
    MAX_MAIL_ATTEMPTS,
    ImportMail,
    ImportRun,
    MailKind,
    MailStatus,
    User,
    utcnow,
)
from ..waiting import mails_wait_for
from . import claims

SHOWN_FAILURES = 50
# The mails an import owes the people in its file (the admin's report is apart).
USER_MAILS = (MailKind.WELCOME, MailKind.UPDATED)
REPORT_MAILS = (MailKind.REPORT,)
# The jobs that send them, and their queues: the report goes with the imports, first.
MAIL_JOBS = (
    ("huddle.jobs.mail_import_report", REPORT_MAILS, "imports"),
    ("huddle.jobs.mail_import", USER_MAILS, "mails"),
)
# Mails one job sends at most. Short jobs let what is queued behind a big batch (another
# import's mails) start soon, and let every mail worker take part in the batch.
MAILS_PER_JOB = 200
# Seconds of sending the rate (and so the time left) is measured over.
RATE_WINDOW = 60
# Wake-up jobs are rounded up to these seconds (a retry is late by no more than that).
WAKE_SECONDS = 5
# A mail job that died (its worker killed, the database away) is run again this often.
JOB_RETRIES = 3


@dataclass
class FailedMail:
    """A mail given up on, as the import's page lists it."""

    email: str
    kind: str
    attempts: int
    error: str


@dataclass
class MailDelivery:
    """Counts of an import's mails by status, the latest reason the waiting ones are waiting,
    and the first failed ones (recipient, kind, why)."""

    sent: int = 0
    waiting: int = 0
    failed: int = 0
    waiting_error: str = ""
    failures: list[FailedMail] = field(default_factory=list)
    max_attempts: int = MAX_MAIL_ATTEMPTS
    # Mails sent a second over the last minute, and so the seconds until the waiting ones
    # are out (None when nothing was sent lately to tell).
    per_second: float = 0.0
    seconds_left: int | None = None
    # Why none goes out although none failed (no one sends mails); "" while they go.
    waits_for: str = ""

    @property
    def total(self) -> int:
        """Every mail the import owes or owed."""
        return self.sent + self.waiting + self.failed


def pending_mail_ids(import_id: int, kinds: Iterable[MailKind] | None = None) -> list[int]:
    """The ids of the import's mails still waiting to be sent (of these ``kinds``, or all), in
    the order they were owed."""
    query = select(ImportMail.id).where(
        ImportMail.import_id == import_id, ImportMail.status == MailStatus.PENDING.value
    )
    if kinds is not None:
        query = query.where(ImportMail.kind.in_([kind.value for kind in kinds]))
    return db.session.scalars(query.order_by(ImportMail.id)).all()


def mails_with_recipients(
    mail_ids: list[int],
) -> tuple[dict[int, ImportMail], dict[int, User]]:
    """The mails with these ids (by id) and their recipients with their levels (by user id),
    read at once and kept out of the session: a sender commits once a mail, and every commit
    would otherwise make each of them be read again."""
    records = {
        record.id: record
        for record in db.session.scalars(select(ImportMail).where(ImportMail.id.in_(mail_ids)))
    }
    people = {
        user.id: user
        for user in db.session.scalars(
            select(User)
            .where(User.id.in_({record.user_id for record in records.values()}))
            .options(selectinload(User.levels))
        )
    }
    levels = {level for user in people.values() for level in user.levels}
    for loaded in (*records.values(), *people.values(), *levels):
        db.session.expunge(loaded)
    return records, people


def mail_delivery(run: ImportRun) -> MailDelivery:
    """How the import's mails stand, for its page."""
    counts = dict(
        db.session.execute(
            select(ImportMail.status, func.count())
            .where(ImportMail.import_id == run.id)
            .group_by(ImportMail.status)
        ).all()
    )
    delivery = MailDelivery(
        sent=counts.get(MailStatus.SENT, 0),
        # A mail being handed to the server is still on its way.
        waiting=counts.get(MailStatus.PENDING, 0) + counts.get(MailStatus.SENDING, 0),
        failed=counts.get(MailStatus.FAILED, 0),
    )
    if delivery.waiting:
        delivery.waiting_error = _waiting_error(run)
        if not delivery.waiting_error:
            delivery.waits_for = mails_wait_for()
        delivery.per_second = _sending_rate(run)
        if delivery.per_second and not delivery.waits_for:
            delivery.seconds_left = math.ceil(delivery.waiting / delivery.per_second)
    if delivery.failed:
        delivery.failures = _failures(run)
    return delivery


def _sending_rate(run: ImportRun, now=None) -> float:
    """Mails of the import sent a second, over the last minute (or since the first was sent,
    when that is sooner)."""
    now = now or utcnow()
    since = now - timedelta(seconds=RATE_WINDOW)
    count, first = db.session.execute(
        select(func.count(), func.min(ImportMail.sent_at)).where(
            ImportMail.import_id == run.id,
            ImportMail.status == MailStatus.SENT.value,
            ImportMail.sent_at >= since,
        )
    ).one()
    if not count:
        return 0.0
    return count / max((now - first).total_seconds(), 1.0)


def _waiting_error(run: ImportRun) -> str:
    return (
        db.session.scalar(
            select(ImportMail.last_error)
            .where(
                ImportMail.import_id == run.id,
                ImportMail.status == MailStatus.PENDING.value,
                ImportMail.last_error != "",
            )
            .limit(1)
        )
        or ""
    )


def _failures(run: ImportRun) -> list[FailedMail]:
    return [
        FailedMail(*row)
        for row in db.session.execute(
            select(User.email, ImportMail.kind, ImportMail.attempts, ImportMail.last_error)
            .join(User, User.id == ImportMail.user_id)
            .where(ImportMail.import_id == run.id, ImportMail.status == MailStatus.FAILED.value)
            .order_by(User.email)
            .limit(SHOWN_FAILURES)
        )
    ]


def queue_import_mails(import_id: int) -> None:
    """Queue the sending of an import's waiting mails: the admin's report with the imports
    (it goes first), the users' mails on the mails queue in jobs of MAILS_PER_JOB, which any
    number of workers share. A mail that fails a try waits (claims.RETRY_PAUSES) and is tried
    again, MAX_MAIL_ATTEMPTS times in all, after which it is marked failed."""
    for job, kinds, on in MAIL_JOBS:
        count = len(pending_mail_ids(import_id, kinds))
        if count:
            jobs = -(-count // MAILS_PER_JOB)
            queue.enqueue_many(job, [(import_id,)] * jobs, on=on, retries=JOB_RETRIES)


def schedule_wake(import_id: int, kinds: tuple[MailKind, ...]) -> None:
    """Queue a job for when the next of these mails, waiting for a retry or held by another
    sender, becomes due; none when nothing waits. The job runs at the end of the five
    seconds the moment falls in, and is named by them: senders that finish at about the
    same time queue one job between them, and it finds every mail of those seconds due."""
    wake = claims.next_wake(import_id, kinds)
    if wake is None:
        return
    job, _kinds, on = next(entry for entry in MAIL_JOBS if entry[1] == kinds)
    moment = math.ceil(wake.replace(tzinfo=UTC).timestamp() / WAKE_SECONDS)
    queue.enqueue_in(
        max(1.0, moment * WAKE_SECONDS - time.time()),
        job,
        import_id,
        on=on,
        retries=JOB_RETRIES,
        job_id=f"{job.rpartition('.')[2]}-{import_id}-{moment}",
    )


def resend_failed_mails(run: ImportRun) -> int:
    """Queue the import's failed mails once more, each with a fresh count of tries; returns
    how many. Raises ``queue.QueueUnavailable`` (and leaves them failed) when Redis is down."""
    queue.check_available()
    failed_ids = db.session.scalars(
        select(ImportMail.id).where(
            ImportMail.import_id == run.id, ImportMail.status == MailStatus.FAILED.value
        )
    ).all()
    if not failed_ids:
        return 0
    _set_status(failed_ids, MailStatus.FAILED, MailStatus.PENDING, attempts=0)
    try:
        queue_import_mails(run.id)
    except queue.QueueUnavailable:
        _set_status(failed_ids, MailStatus.PENDING, MailStatus.FAILED, attempts=MAX_MAIL_ATTEMPTS)
        raise
    return len(failed_ids)


def _set_status(ids: list[int], old: MailStatus, new: MailStatus, *, attempts: int) -> None:
    # Committed before the job is queued, so the worker finds the mails waiting.
    db.session.execute(
        update(ImportMail)
        .where(ImportMail.id.in_(ids), ImportMail.status == old.value)
        .values(
            status=new.value,
            attempts=attempts,
            next_try_at=None,
            interrupted=False,
            claimed_by="",
            claimed_at=None,
        )
    )
    db.session.commit()
