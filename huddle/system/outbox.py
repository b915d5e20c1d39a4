"""The Outbox's list: every mail the dev sink received, and the import mails that have not
gone (waiting, or failed after every try), searched by address or subject, filtered by status
and import, a page at a time.

Mails that went out are read from the sink's folder (``devmail``); which import a mail
belongs to, and the mails that did not go, from the database (``ImportMail``, by the
Message-ID its last try went out with).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import func, select

from .. import devmail
from ..bounds import MAX_PAGE, int_arg
from ..extensions import db
from ..models import ImportMail, ImportRun, MailStatus, User

PER_PAGE = 50
# The statuses to filter by; "" is every mail.
STATUSES = ("", "sent", "waiting", "failed")
_WAITING = (MailStatus.PENDING.value, MailStatus.SENDING.value)
_FAILED = (MailStatus.FAILED.value,)
_NOT_SENT = {"": _WAITING + _FAILED, "waiting": _WAITING, "failed": _FAILED}
# How many imports the filter offers: the newest that owe or sent mails.
IMPORT_CHOICES = 50


@dataclass(frozen=True)
class OutboxQuery:
    """What the admin asked the Outbox for."""

    search: str = ""
    status: str = ""
    import_id: str = ""  # the import's public id
    page: int = 1

    @classmethod
    def from_args(cls, args) -> OutboxQuery:
        """The query of a request's arguments (q, status, import, page), anything odd left out."""
        status = args.get("status", "")
        return cls(
            search=args.get("q", "").strip()[:200],
            status=status if status in STATUSES else "",
            import_id=args.get("import", "")[:32],
            page=int_arg(args, "page", 1, high=MAX_PAGE),
        )

    def to_args(self, **changes) -> dict:
        """Query-string arguments for this query with ``changes`` applied (for links)."""
        query = replace(self, **changes)
        args = {"q": query.search, "status": query.status, "import": query.import_id}
        args = {key: value for key, value in args.items() if value}
        return {**args, "page": query.page} if query.page != 1 else args


@dataclass
class OutboxRow:
    """One mail: received by the sink (``entry_id`` to open it), or not sent (with why)."""

    when: datetime | None
    to: str
    subject: str
    status: str  # "sent", "waiting", "failed"
    entry_id: str = ""
    kind: str = ""
    attempts: int = 0
    error: str = ""
    import_public_id: str = ""
    import_filename: str = ""


@dataclass
class OutboxPage:
    """A page of the Outbox, and what the filters offer."""

    query: OutboxQuery
    rows: list[OutboxRow]
    total: int
    imports: list[tuple[str, str, datetime]] = field(default_factory=list)

    @property
    def pages(self) -> int:
        """How many pages the mails fill (at least one)."""
        return max(1, -(-self.total // PER_PAGE))


def outbox_page(outbox_dir: str, query: OutboxQuery) -> OutboxPage:
    """The page ``query`` asks for: the mails that did not go first (they want action), then
    those the sink received, newest first."""
    run = _import(query.import_id)
    not_sent = _not_sent_query(query, run)
    unsent_total = db.session.scalar(select(func.count()).select_from(not_sent.subquery())) or 0
    sent = _sent_entries(outbox_dir, query, run)
    start = (query.page - 1) * PER_PAGE
    rows = [
        _unsent_row(*found) for found in db.session.execute(not_sent.offset(start).limit(PER_PAGE))
    ]
    skip_sent = max(0, start - unsent_total)
    rows += _sent_rows(sent[skip_sent : skip_sent + PER_PAGE - len(rows)])
    return OutboxPage(query, rows, unsent_total + len(sent), _import_choices())


def _import(public_id: str) -> ImportRun | None:
    if not public_id:
        return None
    return db.session.scalar(select(ImportRun).where(ImportRun.public_id == public_id))


def _not_sent_query(query: OutboxQuery, run: ImportRun | None):
    statuses = _NOT_SENT.get(query.status, ())
    found = (
        select(ImportMail, User.email, ImportRun.public_id, ImportRun.filename)
        .join(User, User.id == ImportMail.user_id)
        .join(ImportRun, ImportRun.id == ImportMail.import_id)
        .where(ImportMail.status.in_(statuses))
        .order_by(ImportMail.id.desc())
    )
    if query.import_id:
        found = found.where(ImportMail.import_id == (run.id if run else -1))
    if query.search:
        found = found.where(_contains(User.email, query.search))
    return found


def _contains(column, text: str):
    # A literal search: % and _ in what the admin typed are letters, not wildcards.
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


def _unsent_row(record: ImportMail, email: str, public_id: str, filename: str) -> OutboxRow:
    return OutboxRow(
        when=record.sent_at or record.claimed_at,
        to=email,
        subject="",
        status="failed" if record.status == MailStatus.FAILED else "waiting",
        kind=record.kind,
        attempts=record.attempts,
        error=record.last_error,
        import_public_id=public_id,
        import_filename=filename,
    )


def _sent_entries(outbox_dir: str, query: OutboxQuery, run: ImportRun | None):
    if query.status not in ("", "sent"):
        return []
    entries = devmail.list_entries(outbox_dir)
    if query.import_id:
        ids = _message_ids_of(run)
        entries = [entry for entry in entries if entry.message_id in ids]
    if query.search:
        needle = query.search.lower()
        entries = [e for e in entries if needle in e.to.lower() or needle in e.subject.lower()]
    return entries


def _message_ids_of(run: ImportRun | None) -> set[str]:
    if run is None:
        return set()
    return set(
        db.session.scalars(
            select(ImportMail.message_id).where(
                ImportMail.import_id == run.id, ImportMail.message_id != ""
            )
        )
    )


def _sent_rows(entries: list[devmail.OutboxEntry]) -> list[OutboxRow]:
    """Rows for these entries, each with its import where it was an import's mail."""
    ids = [entry.message_id for entry in entries if entry.message_id]
    imports = (
        {
            message_id: (public_id, filename)
            for message_id, public_id, filename in db.session.execute(
                select(ImportMail.message_id, ImportRun.public_id, ImportRun.filename)
                .join(ImportRun, ImportRun.id == ImportMail.import_id)
                .where(ImportMail.message_id.in_(ids))
            )
        }
        if ids
        else {}
    )
    rows = []
    for entry in entries:
        public_id, filename = imports.get(entry.message_id, ("", ""))
        rows.append(
            OutboxRow(
                when=entry.received_at,
                to=entry.to,
                subject=entry.subject,
                status="sent",
                entry_id=entry.id,
                import_public_id=public_id,
                import_filename=filename,
            )
        )
    return rows


def _import_choices() -> list[tuple[str, str, datetime]]:
    """The newest imports that owe or sent mails: (public id, file name, when)."""
    return [
        tuple(found)
        for found in db.session.execute(
            select(ImportRun.public_id, ImportRun.filename, ImportRun.created_at)
            .where(ImportRun.id.in_(select(ImportMail.import_id)))
            .order_by(ImportRun.id.desc())
            .limit(IMPORT_CHOICES)
        )
    ]
