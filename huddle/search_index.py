"""SQLite's search index of the users (an FTS5 trigram index, migrations 0011 and 0015), and
its backlog: the users a large import made, indexed after the import has committed.

Triggers index every user as it is written, which costs FTS5 more than writing the user: a
quarter of an import of 1,000,000 rows. So a large import puts its new users in the backlog
(``defer_new_users``): every user from a first id on, whoever made them, is left for
``catch_up`` to index afterwards, a chunk at a time, as they are by then. Meanwhile a search
finds the users in the backlog by reading them (``users.listing``): slower, and ignoring the
case of A–Z only, for the seconds it takes.

PostgreSQL keeps its trigram index itself, cheaply enough; there everything here does nothing.
"""

from __future__ import annotations

from sqlalchemy import text

from .extensions import db

SEARCHED = ("email", "first_name", "infix", "last_name")
CATCH_UP_USERS = 10_000  # users indexed per transaction: short, so others may write between
_BACKLOG_START = "SELECT first_id FROM users_search_backlog"


def _sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def defer_new_users() -> None:
    """SQLite: the users this transaction inserts from now on are indexed after it, by
    ``catch_up`` (already deferred ones stay so). Call inside the transaction that inserts
    them: if it rolls back, nothing is deferred."""
    if _sqlite():
        db.session.execute(
            text(
                "INSERT INTO users_search_backlog (first_id)"
                " SELECT coalesce(max(id), 0) + 1 FROM users"
                " WHERE NOT EXISTS (SELECT 1 FROM users_search_backlog)"
            )
        )


def backlog_start() -> int | None:
    """The first id of the users not yet indexed (each one after it too), or None."""
    return db.session.scalar(text(_BACKLOG_START)) if _sqlite() else None


def catch_up(users_per_transaction: int = CATCH_UP_USERS) -> int:
    """Index the users in the backlog, committing after each chunk, until it is empty; the
    number indexed. Safe to run in two processes at once: each chunk is taken under the
    write lock, so no user is indexed twice."""
    if not _sqlite():
        return 0
    indexed = 0
    columns = ", ".join(SEARCHED)
    while True:
        # Write first, so that this transaction holds SQLite's one write lock before it
        # reads where the backlog starts: another process may have just indexed a chunk.
        db.session.execute(text("UPDATE users_search_backlog SET first_id = first_id"))
        first = db.session.scalar(text(_BACKLOG_START))
        if first is None:
            db.session.commit()
            return indexed
        last = first + users_per_transaction - 1
        indexed += db.session.execute(
            text(
                f"INSERT INTO users_search (rowid, {columns}) SELECT id, {columns} FROM users"
                " WHERE id BETWEEN :first AND :last"
            ),
            {"first": first, "last": last},
        ).rowcount
        newest = db.session.scalar(text("SELECT max(id) FROM users")) or 0
        if last >= newest:
            db.session.execute(text("DELETE FROM users_search_backlog"))
        else:
            db.session.execute(
                text("UPDATE users_search_backlog SET first_id = :next"), {"next": last + 1}
            )
        db.session.commit()
