"""The mails an import owes, as the admin sees them: how many are sent, waiting or failed,
and sending the failed ones again."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select, update

from .. import queue
from ..extensions import db
from ..mailing import MAX_MAIL_ATTEMPTS
from ..models import ImportMail, ImportRun, User

SHOWN_FAILURES = 50


@dataclass
class FailedMail:
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

    @property
    def total(self) -> int:
        return self.sent + self.waiting + self.failed


def mail_delivery(run: ImportRun) -> MailDelivery:
    counts = dict(
        db.session.execute(
            select(ImportMail.status, func.count())
            .where(ImportMail.import_id == run.id)
            .group_by(ImportMail.status)
        ).all()
    )
    delivery = MailDelivery(
        sent=counts.get("sent", 0), waiting=counts.get("pending", 0), failed=counts.get("failed", 0)
    )
    if delivery.waiting:
        delivery.waiting_error = (
            db.session.scalar(
                select(ImportMail.last_error)
                .where(
                    ImportMail.import_id == run.id,
                    ImportMail.status == "pending",
                    ImportMail.last_error != "",
                )
                .limit(1)
            )
            or ""
        )
    if delivery.failed:
        delivery.failures = [
            FailedMail(*row)
            for row in db.session.execute(
                select(User.email, ImportMail.kind, ImportMail.attempts, ImportMail.last_error)
                .join(User, User.id == ImportMail.user_id)
                .where(ImportMail.import_id == run.id, ImportMail.status == "failed")
                .order_by(User.email)
                .limit(SHOWN_FAILURES)
            )
        ]
    return delivery


def resend_failed_mails(run: ImportRun) -> int:
    """Queue the import's failed mails once more, each with a fresh count of tries; returns
    how many. Raises ``queue.QueueUnavailable`` (and leaves them failed) when Redis is down."""
    from ..jobs import queue_import_mails

    queue.check_available()
    failed_ids = db.session.scalars(
        select(ImportMail.id).where(ImportMail.import_id == run.id, ImportMail.status == "failed")
    ).all()
    if not failed_ids:
        return 0
    _set_status(failed_ids, "failed", "pending", attempts=0)
    try:
        queue_import_mails(run.id)
    except queue.QueueUnavailable:
        _set_status(failed_ids, "pending", "failed", attempts=MAX_MAIL_ATTEMPTS)
        raise
    return len(failed_ids)


def _set_status(ids: list[int], old: str, new: str, *, attempts: int) -> None:
    # Committed before the job is queued, so the worker finds the mails waiting.
    db.session.execute(
        update(ImportMail)
        .where(ImportMail.id.in_(ids), ImportMail.status == old)
        .values(status=new, attempts=attempts)
    )
    db.session.commit()
