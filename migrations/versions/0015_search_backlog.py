"""SQLite: a large import's new users are indexed for search after the import has committed,
not one by one while it runs; until then a search finds them by reading them

Revision ID: 0015_search_backlog
Revises: 0014_users_search_text
"""

from alembic import op

revision = "0015_search_backlog"
down_revision = "0014_users_search_text"
branch_labels = None
depends_on = None

SEARCHED = ("email", "first_name", "infix", "last_name")
# A user is in the index unless its id is in the backlog: from first_id on (one row at most).
INDEXED = "NOT EXISTS (SELECT 1 FROM users_search_backlog WHERE {row}.id >= first_id)"


def _triggers(indexed_only: bool) -> None:
    """0011's triggers, which keep the index in step; with ``indexed_only``, only for users
    the index holds: a user in the backlog is indexed later as it is then."""
    columns = ", ".join(SEARCHED)
    new = ", ".join(f"new.{column}" for column in SEARCHED)
    old = ", ".join(f"old.{column}" for column in SEARCHED)

    def when(row: str) -> str:
        return f" WHEN {INDEXED.format(row=row)}" if indexed_only else ""

    op.execute(
        f"CREATE TRIGGER users_search_insert AFTER INSERT ON users{when('new')} BEGIN"
        f" INSERT INTO users_search (rowid, {columns}) VALUES (new.id, {new}); END"
    )
    op.execute(
        f"CREATE TRIGGER users_search_delete AFTER DELETE ON users{when('old')} BEGIN"
        f" INSERT INTO users_search (users_search, rowid, {columns})"
        f" VALUES ('delete', old.id, {old}); END"
    )
    op.execute(
        f"CREATE TRIGGER users_search_update AFTER UPDATE OF {columns} ON users{when('old')}"
        f" BEGIN INSERT INTO users_search (users_search, rowid, {columns})"
        f" VALUES ('delete', old.id, {old});"
        f" INSERT INTO users_search (rowid, {columns}) VALUES (new.id, {new}); END"
    )


def _drop_triggers() -> None:
    for trigger in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER users_search_{trigger}")


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL keeps its trigram index itself (0014)
    # Indexing a user as it is inserted costs FTS5 more than the insert: 6 of an import's
    # 25 s at 1,000,000 users. Afterwards (search_index.catch_up) it costs the import nothing.
    op.execute("CREATE TABLE users_search_backlog (first_id INTEGER NOT NULL)")
    _drop_triggers()
    _triggers(indexed_only=True)


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    # Whoever is still in the backlog is indexed first: 0011's index holds every user.
    op.execute(
        f"INSERT INTO users_search (rowid, {', '.join(SEARCHED)})"
        f" SELECT id, {', '.join(SEARCHED)} FROM users"
        " WHERE id >= (SELECT first_id FROM users_search_backlog)"
    )
    _drop_triggers()
    op.execute("DROP TABLE users_search_backlog")
    _triggers(indexed_only=False)
