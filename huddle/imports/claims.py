"""Which worker sends which mail, so that several workers (on one machine or several) share a
batch and each mail goes out once; and what a try that ended, failed or was cut off leaves.

A mail's life in the database, the one truth about it (Redis only carries the jobs):

    pending ──claim──▶ pending, claimed by W ──start──▶ sending ──▶ sent
                                                           │
                                                           ├─ refused, timed out ▶ pending, tried
                                                           │  again after a pause (failed after
                                                           │  MAX_MAIL_ATTEMPTS tries)
                                                           └─ W died ▶ found "sending" after the
                                                              lease: sent once more (at least
                                                              once), never a third time

A claim picks a few free rows (on PostgreSQL ``FOR UPDATE SKIP LOCKED``, so two workers
claiming at the same moment get different rows without waiting) and claims those still free
in one UPDATE, which on SQLite runs alone, so claims cannot overlap there either. Starting a
mail is a compare-and-set on its claimant, so a worker whose claim went stale (and was taken
by another) never sends a mail the other sends too.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, func, or_, select, update

from ..extensions import db
from ..models import MAX_MAIL_ATTEMPTS, ImportMail, MailKind, MailStatus, utcnow

# Pauses before the 2nd, 3rd, … try of a mail that failed one: soon, then further apart.
RETRY_PAUSES = (10, 60, 300, 1800)


def claimant(worker: str = "") -> str:
    """A name for one sender, unique across machines and processes: the machine, the worker
    (or the process), and a run of its own."""
    return f"{socket.gethostname()[:30]}:{(worker or str(os.getpid()))[:32]}:{uuid.uuid4().hex[:8]}"


def lease() -> timedelta:
    """How long a claim or a "sending" mark holds before others may take the mail: long
    enough for the slowest single send (each of its SMTP exchanges may take MAIL_TIMEOUT)."""
    return timedelta(seconds=6 * current_app.config["MAIL_TIMEOUT"])


def _kinds(kinds: Iterable[MailKind]) -> list[str]:
    return [MailKind(kind).value for kind in kinds]


def claim_mails(
    import_id: int, kinds: Iterable[MailKind], worker: str, *, limit: int, now=None
) -> list[int]:
    """Claim for ``worker`` up to ``limit`` of the import's mails (of ``kinds``) that are due
    and free, in the order they were owed; returns their ids, committed."""
    now = now or utcnow()
    is_free = (
        ImportMail.import_id == import_id,
        ImportMail.kind.in_(_kinds(kinds)),
        ImportMail.status == MailStatus.PENDING.value,
        or_(ImportMail.next_try_at.is_(None), ImportMail.next_try_at <= now),
        or_(ImportMail.claimed_at.is_(None), ImportMail.claimed_at < now - lease()),
    )
    # First pick (and on PostgreSQL lock) the rows, then claim them if still free. Not one
    # UPDATE … IN (SELECT … LIMIT): PostgreSQL may run such a sub-select more than once,
    # and claim more than ``limit``. On SQLite a pick is not locked, so another sender may
    # claim the same rows first: then pick again, until a claim holds or nothing is free.
    while True:
        picked = db.session.scalars(
            select(ImportMail.id)
            .where(*is_free)
            .order_by(ImportMail.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        if not picked:
            db.session.commit()
            return []
        claimed = db.session.scalars(
            update(ImportMail)
            .where(ImportMail.id.in_(picked), *is_free)
            .values(claimed_by=worker, claimed_at=now)
            .returning(ImportMail.id)
            .execution_options(synchronize_session=False)
        ).all()
        db.session.commit()
        if claimed:
            return sorted(claimed)


# The two statements run once for every mail, made once: building one costs more than
# running it. Core statements on the table, so the session neither tracks nor expires rows.
_mails = ImportMail.__table__
_START_SENDING = (
    update(_mails)
    .where(
        _mails.c.id == bindparam("mail_id"),
        _mails.c.status == MailStatus.PENDING.value,
        _mails.c.claimed_by == bindparam("worker"),
    )
    .values(
        status=MailStatus.SENDING.value,
        claimed_at=bindparam("now"),
        attempts=_mails.c.attempts + 1,
        message_id=bindparam("message_id"),
    )
)
_MARK_SENT = (
    update(_mails)
    .where(_mails.c.id == bindparam("mail_id"), _mails.c.status == MailStatus.SENDING.value)
    .values(status=MailStatus.SENT.value, sent_at=bindparam("now"))
)


def start_sending(mail_id: int, worker: str, message_id: str = "", now=None) -> bool:
    """Mark the mail "sending" (a try begun, to go out as ``message_id``), committed, if
    ``worker`` still holds its claim; False when it does not (its claim went stale and
    another took it). The commit also carries what the caller recorded of the mail before
    (``mark_sent``)."""
    values = {"mail_id": mail_id, "worker": worker, "now": now or utcnow()}
    result = db.session.execute(_START_SENDING, {**values, "message_id": message_id})
    db.session.commit()
    return result.rowcount == 1


def mark_sent(mail_id: int, now=None) -> None:
    """The server took the mail (the caller commits); its claimant stays, to tell who sent it."""
    db.session.execute(_MARK_SENT, {"mail_id": mail_id, "now": now or utcnow()})


def count_failed_tries(mail_ids: Iterable[int], error: str, now=None) -> int:
    """A failed try for each of these mails, with why (the caller commits): each waits
    RETRY_PAUSES before the next, and the one that used its last try is marked failed. A mail
    not yet started (its claim ended by an unreachable server) counts the try here. Returns
    how many were given up on."""
    now = now or utcnow()
    given_up = 0
    for record in db.session.scalars(select(ImportMail).where(ImportMail.id.in_(list(mail_ids)))):
        if record.status == MailStatus.PENDING:
            record.attempts += 1
        elif record.status != MailStatus.SENDING:
            continue  # sent or failed meanwhile: nothing to count
        record.last_error = error[:500]
        record.claimed_by, record.claimed_at = "", None
        if record.attempts >= MAX_MAIL_ATTEMPTS:
            record.status = MailStatus.FAILED
            given_up += 1
        else:
            record.status = MailStatus.PENDING
            pause = RETRY_PAUSES[min(record.attempts, len(RETRY_PAUSES)) - 1]
            record.next_try_at = now + timedelta(seconds=pause)
    return given_up


def release(mail_ids: Iterable[int], worker: str) -> None:
    """Give back the claims of ``worker`` on mails it did not start (the caller commits)."""
    db.session.execute(
        update(ImportMail)
        .where(
            ImportMail.id.in_(list(mail_ids)),
            ImportMail.status == MailStatus.PENDING.value,
            ImportMail.claimed_by == worker,
        )
        .values(claimed_by="", claimed_at=None)
        .execution_options(synchronize_session=False)
    )


def recover_interrupted(import_id: int | None = None, now=None) -> int:
    """Mails left "sending" longer than the lease: their sender died while the server had
    them, so they may have arrived. The first time, such a mail is sent once more (at least
    once: a welcome missed is worse than one twice); the second time it is marked failed, for
    the admin to decide. Committed; returns how many were found."""
    now = now or utcnow()
    query = select(ImportMail).where(
        ImportMail.status == MailStatus.SENDING.value, ImportMail.claimed_at < now - lease()
    )
    if import_id is not None:
        query = query.where(ImportMail.import_id == import_id)
    found = db.session.scalars(query).all()
    for record in found:
        record.claimed_by, record.claimed_at = "", None
        if record.interrupted or record.attempts >= MAX_MAIL_ATTEMPTS:
            record.status = MailStatus.FAILED
            record.last_error = _(
                "Its sending was cut off twice; it may have arrived, so it was not sent again."
            )
        else:
            record.status, record.interrupted = MailStatus.PENDING, True
            record.last_error = _(
                "Its sending was cut off (the sending process stopped); sent once more."
            )
    db.session.commit()
    return len(found)


def next_wake(import_id: int, kinds: Iterable[MailKind], now=None) -> datetime | None:
    """When the next of the import's mails (of ``kinds``) that are not due now becomes due:
    a retry's pause ends, or another sender's claim or "sending" mark runs out. None when
    nothing waits for a time."""
    now = now or utcnow()
    mine = (ImportMail.import_id == import_id, ImportMail.kind.in_(_kinds(kinds)))
    retry = db.session.scalar(
        select(func.min(ImportMail.next_try_at)).where(
            *mine, ImportMail.status == MailStatus.PENDING.value, ImportMail.next_try_at > now
        )
    )
    held = db.session.scalar(
        select(func.min(ImportMail.claimed_at)).where(
            *mine,
            ImportMail.status.in_([MailStatus.PENDING.value, MailStatus.SENDING.value]),
            ImportMail.claimed_at >= now - lease(),
        )
    )
    times = [t for t in (retry, held and held + lease()) if t is not None]
    return min(times) if times else None
