"""search on Users › Manage by index: an FTS5 trigram index on SQLite, pg_trgm on PostgreSQL

Revision ID: 0011_user_search
Revises: 0010_session_versions
"""

from alembic import op

revision = "0011_user_search"
down_revision = "0010_session_versions"
branch_labels = None
depends_on = None

SEARCHED = ("email", "first_name", "infix", "last_name")
# The searched columns as one text (huddle/users/listing.py searches this very expression).
# A search word holds no space, so it is in this text only where it is in one column.
SEARCH_TEXT = "(email || ' ' || first_name || ' ' || infix || ' ' || last_name)"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may add it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        # One index over the columns as one text, not one per column: an import updates one
        # index per user, and no index other than the unique one serves a look-up by address.
        op.execute(f"CREATE INDEX ix_users_search_trigrams ON users USING gin ({SEARCH_TEXT} gin_trgm_ops)")
        return
    # SQLite: an FTS5 index of the users' searched columns, by trigrams (any part of a word of
    # three letters or more), reading the text from users itself; triggers keep it in step.
    columns = ", ".join(SEARCHED)
    new = ", ".join(f"new.{column}" for column in SEARCHED)
    old = ", ".join(f"old.{column}" for column in SEARCHED)
    op.execute(
        f"CREATE VIRTUAL TABLE users_search USING fts5({columns}, content='users',"
        " content_rowid='id', tokenize='trigram case_sensitive 0')"
    )
    op.execute("INSERT INTO users_search (users_search) VALUES ('rebuild')")
    op.execute(
        "CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN"
        f" INSERT INTO users_search (rowid, {columns}) VALUES (new.id, {new}); END"
    )
    op.execute(
        "CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN"
        f" INSERT INTO users_search (users_search, rowid, {columns})"
        f" VALUES ('delete', old.id, {old}); END"
    )
    # Only when a searched column changes: an import that updates phones leaves it be.
    op.execute(
        f"CREATE TRIGGER users_search_update AFTER UPDATE OF {columns} ON users BEGIN"
        f" INSERT INTO users_search (users_search, rowid, {columns})"
        f" VALUES ('delete', old.id, {old});"
        f" INSERT INTO users_search (rowid, {columns}) VALUES (new.id, {new}); END"
    )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_users_search_trigrams")
        return
    for trigger in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER users_search_{trigger}")
    op.execute("DROP TABLE users_search")
