"""The hot paths' way past the ORM: many rows written with the driver's executemany, and
many read with its plain cursor, inside the session's transaction.

SQLAlchemy's per-row parameter handling costs more than the database itself at 100,000 rows,
so bulk writes go to the driver directly. Values must be in the driver's form already: plain
strings and numbers are, and ``db_value`` converts the others (dates, booleans) with the
column type's own bind processor, the conversion the ORM would do. Convert a value shared by
every row (a timestamp) once, not per row.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Table

from .extensions import db


def db_value(column, value):
    """``value`` as the driver should get it for ``column`` (e.g. a datetime for SQLite)."""
    dialect = db.session.get_bind().dialect
    processor = column.type.dialect_impl(dialect).bind_processor(dialect)
    return processor(value) if processor else value


def _placeholder(dialect) -> str:
    return "?" if dialect.paramstyle == "qmark" else "%s"


def in_list(connection: Connection, count: int) -> str:
    """``count`` of the driver's placeholders, separated by commas: for VALUES and IN."""
    return ", ".join([_placeholder(connection.dialect)] * count)


def insert_many(
    table: Table,
    columns: Sequence[str],
    rows: list[tuple],
    *,
    ignore_conflicts: bool = False,
) -> None:
    """INSERT ``rows`` (tuples in ``columns`` order, values in driver form)."""
    if not rows:
        return
    connection = db.session.connection()
    dialect = connection.dialect
    quote = dialect.identifier_preparer.quote
    marks = in_list(connection, len(columns))
    sql = f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, columns))}) VALUES ({marks})"
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    connection.exec_driver_sql(sql, rows)


def update_many(table: Table, columns: Sequence[str], rows: list[tuple]) -> None:
    """UPDATE ``table`` SET ``columns`` WHERE id = the last value of each row (driver form)."""
    if not rows:
        return
    connection = db.session.connection()
    dialect = connection.dialect
    quote = dialect.identifier_preparer.quote
    mark = _placeholder(dialect)
    assignments = ", ".join(f"{quote(name)} = {mark}" for name in columns)
    sql = f"UPDATE {quote(table.name)} SET {assignments} WHERE id = {mark}"
    connection.exec_driver_sql(sql, rows)


def select_in(query: str, values: list) -> list[tuple]:
    """Run ``query`` (SQL ending in "IN") on the driver with ``values`` as the list: rows as
    tuples. SQLAlchemy would compile one bind parameter per value and wrap every row, which
    costs more than the lookup itself for thousands of addresses."""
    if not values:
        return []
    connection = db.session.connection()
    marks = in_list(connection, len(values))
    # The driver's own cursor: its plain tuples cost less than SQLAlchemy's Row objects.
    cursor = connection.connection.cursor()
    try:
        cursor.execute(f"{query} ({marks})", tuple(values))
        return cursor.fetchall()
    finally:
        cursor.close()


def refresh_statistics(table: Table) -> None:
    """Let PostgreSQL's planner know how many rows ``table`` has now, this transaction's
    own included (ANALYZE counts those). Nothing to do on SQLite."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(
            f"ANALYZE {connection.dialect.identifier_preparer.quote(table.name)}"
        )


def fetch_all(statement) -> list[tuple]:
    """Run a SELECT on the database driver's own cursor, in the session's transaction.

    SQLAlchemy builds the SQL; the driver's plain tuples cost a fraction of SQLAlchemy's
    result rows, which shows at a million users. Parameters here are ids and search
    patterns, which need no conversion on their way to the driver.
    """
    connection = db.session.connection()
    compiled = statement.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    params = compiled.construct_params()
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup)
    cursor = connection.connection.cursor()
    try:
        cursor.execute(compiled.string, params)
        return cursor.fetchall()
    finally:
        cursor.close()
