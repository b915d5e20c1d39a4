"""The database: users, access levels and which user has which level since when."""

from __future__ import annotations

import enum
import secrets
from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db
from .pipeline.columns import MAX_LENGTH


def utcnow() -> datetime:
    """Now, in UTC, without a time zone (as the columns store it)."""
    return datetime.now(UTC).replace(tzinfo=None)


def normalise_email(email: str) -> str:
    """The form an address is stored and compared in: trimmed and lower-case."""
    return email.strip().lower()


class GrantSource(enum.StrEnum):
    """What gave a user a level: an admin by hand, or an import."""

    ADMIN = "admin"
    IMPORT = "import"


class User(UserMixin, db.Model):
    """A person of the Huddle: a member, or an admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(MAX_LENGTH["email"]), unique=True)
    first_name: Mapped[str] = mapped_column(String(MAX_LENGTH["first_name"]))
    infix: Mapped[str] = mapped_column(String(MAX_LENGTH["infix"]), default="")
    last_name: Mapped[str] = mapped_column(String(MAX_LENGTH["last_name"]))
    phone: Mapped[str] = mapped_column(String(MAX_LENGTH["phone"]), default="")
    organisation: Mapped[str] = mapped_column(String(MAX_LENGTH["organisation"]), default="")
    job_title: Mapped[str] = mapped_column(String(MAX_LENGTH["job_title"]), default="")
    language: Mapped[str] = mapped_column(String(MAX_LENGTH["language"]), default="")
    is_admin: Mapped[bool] = mapped_column(default=False)
    # Empty until the user sets a password through a set-password link.
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    # Part of the id every session and remember cookie carries: raising it (logout, a new
    # password, "log out everywhere") ends all of them at once.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    level_grants: Mapped[list[UserLevel]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="UserLevel.granted_at"
    )
    levels: Mapped[list[Level]] = relationship(
        secondary="user_levels", viewonly=True, order_by="Level.name"
    )

    __table_args__ = (
        # Addresses are unique and stored lower-case; together this makes the database itself
        # refuse a "Jan@X.nl" next to "jan@x.nl", even if some code path forgot to normalise.
        CheckConstraint("email = lower(email)", name="email_lower_case"),
        # Sorting the users list by name walks this index; it also covers the id (see users/).
        Index("ix_users_name_order", "last_name", "first_name", "id"),
        Index("ix_users_created_order", "created_at", "id"),
    )

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.infix, self.last_name) if part)

    @property
    def has_password(self) -> bool:
        return bool(self.password_hash)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        """What a session and a remember cookie keep of the user: "id.session_version"."""
        return f"{self.id}.{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class Level(db.Model):
    """An access level; users have any number of them."""

    __tablename__ = "levels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    grants: Mapped[list[UserLevel]] = relationship(
        back_populates="level", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Level {self.name}>"


class UserLevel(db.Model):
    """A user has a level: granted when, and by what (an admin by hand, or an import)."""

    __tablename__ = "user_levels"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    level_id: Mapped[int] = mapped_column(
        ForeignKey("levels.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    granted_via: Mapped[str] = mapped_column(String(10), default=GrantSource.ADMIN.value)
    # The admin's user id when granted by hand, the import's id when granted by an import.
    granted_by_id: Mapped[int | None]

    user: Mapped[User] = relationship(back_populates="level_grants")
    level: Mapped[Level] = relationship(back_populates="grants")


class ImportStatus(enum.StrEnum):
    """Where an import is, from draft to done."""

    DRAFT = "draft"  # uploaded, being checked and set up in the wizard
    CHECKING = "checking"  # a draft whose large file a worker is checking for the preview
    REJECTED = "rejected"  # the file cannot be read at all; file_error says why
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # nothing was written; error says why


def new_public_id() -> str:
    """An unguessable id for pages and links."""
    return secrets.token_urlsafe(16)


class ImportRun(db.Model):
    """One import: the uploaded file, the admin's choices and fixes, its state and outcome.

    Pages find it by ``public_id`` (opaque, unguessable), never by a path from the browser.
    """

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(10), default="web")  # "web" or "cli"
    filename: Mapped[str] = mapped_column(String(255))
    file_size: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(10), default=ImportStatus.DRAFT.value, index=True)
    file_error: Mapped[str] = mapped_column(Text, default="")
    encoding: Mapped[str] = mapped_column(String(20), default="")
    # How the file was read (pipeline.reading.CsvTable.summary: put in words when shown):
    # {"kind": "csv"|"xlsx", "delimiter": ",", "encoding": "Windows-1252", "certain": bool,
    # "sheets": [...], ...}; and what the admin chose instead of our guess.
    reading: Mapped[dict] = mapped_column(JSON, default=dict)
    read_options: Mapped[dict] = mapped_column(JSON, default=dict)
    ignored_columns: Mapped[list] = mapped_column(JSON, default=list)
    # {"7": {"email": "fixed@x.nl"}}: cells the admin corrected in the preview, by line.
    fixes: Mapped[dict] = mapped_column(JSON, default=dict)
    level_ids: Mapped[list] = mapped_column(JSON, default=list)
    notify_new: Mapped[bool] = mapped_column(default=True)
    notify_existing: Mapped[bool] = mapped_column(default=False)
    # The language of the mails to people without one in the file ("" not chosen: see
    # imports.lookups.mail_language); new users without one get it too.
    mail_language: Mapped[str] = mapped_column(String(2), default="", server_default="")
    rows_total: Mapped[int] = mapped_column(default=0)
    new_count: Mapped[int] = mapped_column(default=0)
    update_count: Mapped[int] = mapped_column(default=0)
    unchanged_count: Mapped[int] = mapped_column(default=0)
    invalid_count: Mapped[int] = mapped_column(default=0)
    blank_lines: Mapped[int] = mapped_column(default=0)
    job_id: Mapped[str] = mapped_column(String(64), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When its rows were last checked: a draft is checked again when users changed since.
    checked_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    created_by: Mapped[User | None] = relationship()
    file: Mapped[ImportFile] = relationship(cascade="all, delete-orphan", passive_deletes=True)

    @property
    def file_data(self) -> bytes:
        return self.file.data

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED, ImportStatus.REJECTED)


class ImportFile(db.Model):
    """The uploaded file of an import, in a table of its own: SQLite rewrites a whole row on
    every update, and an import's status and fixes change often while its file never does."""

    __tablename__ = "import_files"

    import_id: Mapped[int] = mapped_column(
        ForeignKey("import_runs.id", ondelete="CASCADE"), primary_key=True
    )
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ImportRow(db.Model):
    """A row of an import as checked: the preview before the import, the outcome after."""

    __tablename__ = "import_rows"

    import_id: Mapped[int] = mapped_column(
        ForeignKey("import_runs.id", ondelete="CASCADE"), primary_key=True
    )
    line: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(MAX_LENGTH["email"]), default="")
    values: Mapped[dict] = mapped_column(JSON)  # the cells, by template column
    edited: Mapped[bool] = mapped_column(default=False)
    action: Mapped[str] = mapped_column(String(10))
    problems: Mapped[list] = mapped_column(JSON, default=list)  # [[column, message], ...]
    changes: Mapped[dict] = mapped_column(JSON, default=dict)  # {"fields": {...}, "levels": [...]}
    gains_levels: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        # Pages of the preview's tabs walk this index.
        Index("ix_import_rows_action", "import_id", "action", "line"),
        # An address used twice is found in the rows stored so far, not in memory.
        Index("ix_import_rows_email", "import_id", "email"),
    )


class CreatedBlock(db.Model):
    """The rows of one batch of an import's outcome that created a user and have nothing
    else to tell (no problem, no correction): every import writes mostly these, so they are
    kept a block at a time rather than as an ImportRow each, which costs a fifth of a large
    import on PostgreSQL. ``imports.created.every_row`` reads both back as one list of rows."""

    __tablename__ = "import_created"

    import_id: Mapped[int] = mapped_column(
        ForeignKey("import_runs.id", ondelete="CASCADE"), primary_key=True
    )
    first_line: Mapped[int] = mapped_column(primary_key=True)
    # The new users' ids run from first_id to last_id: an address used twice is traced back
    # to its line through the user it made (``lookups.created_lines``).
    first_id: Mapped[int]
    last_id: Mapped[int]
    count: Mapped[int]
    # JSON: {"levels": [[name, ...], ...], "rows": [[line, user id, e-mail, levels index]]},
    # by line; text, not JSON, as nothing reads inside it but Python.
    data: Mapped[str] = mapped_column(Text)


class MailKind(enum.StrEnum):
    """Which mail an import owes someone."""

    WELCOME = "welcome"  # a new user: a link to choose a password
    UPDATED = "updated"  # an existing user who gained levels
    REPORT = "report"  # the admin who started the import: how it ended


class MailStatus(enum.StrEnum):
    """Where a mail an import owes is: waiting to be sent (again), being handed to the server,
    sent, or given up on."""

    PENDING = "pending"
    SENDING = "sending"  # marked just before the server gets it, so a crash leaves a trace
    SENT = "sent"
    FAILED = "failed"  # after MAX_MAIL_ATTEMPTS tries; the admin can send it again


# Tries of one mail before it is marked failed (the mail job's retries keep step with it).
MAX_MAIL_ATTEMPTS = 5


class ImportMail(db.Model):
    """A mail an import owes someone. One row per import, user and kind: never sent twice."""

    __tablename__ = "import_mails"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("import_runs.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default=MailStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    levels_gained: Mapped[list] = mapped_column(JSON, default=list)
    sent_at: Mapped[datetime | None]
    # Which sender took (and then sent) the mail, and when (see imports.claims).
    claimed_by: Mapped[str] = mapped_column(String(80), default="")
    claimed_at: Mapped[datetime | None]
    # Not before this time: a failed try waits, growing pauses apart (None: at once).
    next_try_at: Mapped[datetime | None]
    # A try cut off while the server had the mail: it is sent once more, never a third time.
    interrupted: Mapped[bool] = mapped_column(default=False)
    # The Message-ID its last try went out with: the one mail in a mailbox it was.
    message_id: Mapped[str] = mapped_column(String(255), default="", index=True)

    def owe_again(self) -> None:
        """Make the mail owed afresh: waiting, no tries, no claim (a report of a second run)."""
        self.status, self.attempts, self.last_error = MailStatus.PENDING, 0, ""
        self.claimed_by, self.claimed_at, self.next_try_at = "", None, None
        self.interrupted = False

    __table_args__ = (
        UniqueConstraint("import_id", "user_id", "kind"),
        Index("ix_import_mails_status", "import_id", "status"),
    )


class ExportStatus(enum.StrEnum):
    """Where an export is, from queued to expired."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    EXPIRED = "expired"  # done, and its file has been deleted after the keeping period


class ExportFormat(enum.StrEnum):
    """The file formats an export can be written in."""

    CSV = "csv"
    XLSX = "xlsx"


class Export(db.Model):
    """An export an admin asked for: which users, in which format, and the file once made.

    ``selection`` is what to export, kept as asked: {"user_ids": [...]} for rows ticked, or
    {"q": ..., "level_id": ...} for everyone matching a search, or {"levels": [...]}.
    """

    __tablename__ = "exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    format: Mapped[str] = mapped_column(String(4), default=ExportFormat.CSV.value)
    selection: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default=ExportStatus.QUEUED.value)
    expected_count: Mapped[int] = mapped_column(default=0)  # when asked
    user_count: Mapped[int] = mapped_column(default=0)  # in the file
    file_size: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    mailed: Mapped[bool] = mapped_column(default=False)
    job_id: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime | None]

    created_by: Mapped[User | None] = relationship()

    @property
    def is_finished(self) -> bool:
        return self.status not in (ExportStatus.QUEUED, ExportStatus.RUNNING)

    @property
    def filename(self) -> str:
        return f"huddle-users-{self.created_at:%Y-%m-%d-%H%M}.{self.format}"


class ExportChunk(db.Model):
    """A piece of an export's file. Files live in the database in pieces of about 1 MB, so
    that any worker can write one and the web app serves it, without a shared disk, and
    neither ever holds a whole file in memory."""

    __tablename__ = "export_chunks"

    export_id: Mapped[int] = mapped_column(
        ForeignKey("exports.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ColumnAlias(db.Model):
    """A column title of an admin's own files, and the template column it means: chosen once
    in the wizard's mapping step, used for that admin's next imports."""

    __tablename__ = "column_aliases"

    admin_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    title: Mapped[str] = mapped_column(String(200), primary_key=True)
    column: Mapped[str] = mapped_column(String(20))
