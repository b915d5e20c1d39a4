"""The hot paths' way past the ORM: many rows written with the driver's executemany, and
many read with its plain cursor, inside the session's transaction.

SQLAlchemy's per-row parameter handling costs more than the database itself at 100,000 rows,
so bulk writes go to the driver directly. Values must be in the driver's form already: plain
strings and numbers are, and ``db_value`` converts the others (dates, booleans) with the
column type's own bind processor, the conversion the ORM would do. Convert a value shared by
every row (a timestamp) once, not per row.
"""

from __future__ import annotations

import contextlib
import json
import zlib
from collections.abc import Sequence

from sqlalchemy import Connection, Table
from sqlalchemy.exc import DBAPIError

from .extensions import AUTOCHECKPOINT_OFF, db


def checkpoint_after_commit() -> None:
    """SQLite: the commit of this session's transaction leaves what it wrote in the
    write-ahead log, for the next commit after it to copy into the database file (whichever
    connection's). Call early in a transaction that writes much, so that it is done and
    seen that much sooner: copying 1,000,000 users' pages took 1.5 to 2 s of the commit."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
        connection.connection.info[AUTOCHECKPOINT_OFF] = True  # until returned to the pool


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


def _is_postgresql(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def _copy(cursor, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    """PostgreSQL's COPY of ``rows`` into ``table``: the driver formats the rows in C and the
    server parses them in one stream, a fraction of the cost of one statement per row."""
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _staged(
    cursor, table: Table, columns: Sequence[str], rows: list[tuple], quote, extra: str = ""
) -> str:
    """Copy ``rows`` into a temporary table with ``columns`` of ``table`` and, if named, an
    ``extra`` integer column last (made once per transaction, emptied on each use) for a
    statement that reads them back; its name."""
    names = ", ".join(map(quote, columns))
    more = f", 0::integer AS {quote(extra)}" if extra else ""
    # One per table and set of columns.
    staging = quote(f"incoming_{table.name}_{zlib.crc32((names + more).encode()):08x}")
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DROP AS"
        f" SELECT {names}{more} FROM {quote(table.name)} WITH NO DATA"
    )
    cursor.execute(f"TRUNCATE {staging}")
    copied = [*map(quote, columns), quote(extra)] if extra else list(map(quote, columns))
    _copy(cursor, staging, copied, rows)
    return staging


@contextlib.contextmanager
def _driver_cursor(connection: Connection):
    """The driver's own cursor: plain tuples, and COPY, which SQLAlchemy does not offer. Its
    errors are raised as SQLAlchemy's (an IntegrityError as ``sqlalchemy.exc.IntegrityError``),
    as from any other statement, so that callers catch one kind."""
    cursor = connection.connection.cursor()
    try:
        yield cursor
    except connection.dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(
            None, None, error, connection.dialect.loaded_dbapi.Error
        ) from error
    finally:
        cursor.close()


def insert_many(
    table: Table,
    columns: Sequence[str],
    rows: list[tuple],
    *,
    ignore_conflicts: bool = False,
) -> None:
    """INSERT ``rows`` (tuples in ``columns`` order, values in driver form); with
    ``ignore_conflicts``, skip those that would break a unique key."""
    if not rows:
        return
    connection = db.session.connection()
    quote = connection.dialect.identifier_preparer.quote
    names = ", ".join(map(quote, columns))
    if not _is_postgresql(connection):
        marks = in_list(connection, len(columns))
        conflicts = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
        sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks}){conflicts}"
        connection.exec_driver_sql(sql, rows)
        return
    with _driver_cursor(connection) as cursor:
        if not ignore_conflicts:
            _copy(cursor, quote(table.name), list(map(quote, columns)), rows)
            return
        staging = _staged(cursor, table, columns, rows, quote)
        cursor.execute(
            f"INSERT INTO {quote(table.name)} ({names}) SELECT {names} FROM {staging}"
            " ON CONFLICT DO NOTHING"
        )


def insert_with_ids(table: Table, columns: Sequence[str], rows: list[tuple], key: str) -> dict:
    """INSERT ``rows`` as ``insert_many`` does; the new rows' ids by their ``key`` column
    (one of ``columns``, unique)."""
    if not rows:
        return {}
    connection = db.session.connection()
    quote = connection.dialect.identifier_preparer.quote
    position = list(columns).index(key)
    with _driver_cursor(connection) as cursor:
        if _is_postgresql(connection):
            # The ids drawn from the table's sequence first, then the rows copied in with them:
            # COPY cannot return what it made. (The sequence is named first: found inside the
            # nextval, it would be looked up again for every row, most of the time taken.)
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", (table.name,))
            (sequence,) = cursor.fetchone()
            cursor.execute(
                "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", (sequence, len(rows))
            )
            ids = [new_id for (new_id,) in cursor.fetchall()]
            _copy(
                cursor,
                quote(table.name),
                [*map(quote, columns), "id"],
                [(*row, new_id) for row, new_id in zip(rows, ids, strict=True)],
            )
            return {row[position]: new_id for row, new_id in zip(rows, ids, strict=True)}
        # SQLite: many rows in one VALUES list (executemany cannot return rows), in chunks
        # that stay under its limit of 32,766 parameters in one statement.
        head = f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, columns))})"
        row_marks = f"({in_list(connection, len(columns))})"
        per_statement = 32_766 // len(columns)
        found = {}
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            values = ", ".join([row_marks] * len(chunk))
            cursor.execute(
                f"{head} VALUES {values} RETURNING {quote(key)}, id",
                [value for row in chunk for value in row],
            )
            found.update(cursor.fetchall())
        return found


def insert_pairs(
    table: Table, columns: Sequence[str], firsts: list[int], seconds: list[int], fixed: tuple
) -> None:
    """INSERT a row for every pair of one of ``firsts`` and one of ``seconds`` (ids), with the
    ``fixed`` values after them, skipping those that would break a unique key. The database
    makes the pairs from two lists sent once, far less than a row sent per pair."""
    if not firsts or not seconds:
        return
    connection = db.session.connection()
    quote = connection.dialect.identifier_preparer.quote
    head = f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, columns))})"
    marks = in_list(connection, len(fixed))
    if _is_postgresql(connection):
        pairs = "unnest(%s::integer[]) AS a(id) CROSS JOIN unnest(%s::integer[]) AS b(id)"
        lists = (firsts, seconds)
    else:
        pairs = "json_each(?) AS a CROSS JOIN json_each(?) AS b"
        lists = (json.dumps(firsts), json.dumps(seconds))
    first, second = ("a.id", "b.id") if _is_postgresql(connection) else ("a.value", "b.value")
    connection.exec_driver_sql(
        # "WHERE true": SQLite would read the ON of ON CONFLICT as the join's.
        f"{head} SELECT {first}, {second}, {marks} FROM {pairs} WHERE true ON CONFLICT DO NOTHING",
        (*fixed, *lists),
    )


def update_many(table: Table, groups: dict[tuple[str, ...], list[tuple]]) -> None:
    """UPDATE ``table`` by id: for each group, its rows set its columns to their values (in
    the columns' order, driver form), followed by the id of the row to change."""
    groups = {columns: rows for columns, rows in groups.items() if rows}
    if not groups:
        return
    connection = db.session.connection()
    quote = connection.dialect.identifier_preparer.quote
    name = quote(table.name)
    with _driver_cursor(connection) as cursor:
        if not _is_postgresql(connection):
            for columns, rows in groups.items():
                _update_from_values(cursor, name, [quote(column) for column in columns], rows)
            return
        # One staged table and one UPDATE for every group: each row says which columns it
        # sets by the bits of "changed". (A statement per group cost more in round trips,
        # with a handful of groups a batch, than the database spent updating.)
        every = sorted({column for columns in groups for column in columns})
        bit = {column: 1 << i for i, column in enumerate(every)}
        staged = []
        for columns, rows in groups.items():
            changed, places = sum(bit[c] for c in columns), [every.index(c) for c in columns]
            for *values, row_id in rows:
                row = [None] * len(every)
                for place, value in zip(places, values, strict=True):
                    row[place] = value
                staged.append((*row, row_id, changed))
        staging = _staged(cursor, table, (*every, "id"), staged, quote, extra="changed")
        assignments = ", ".join(
            f"{quote(c)} = CASE WHEN {staging}.changed & {bit[c]} <> 0"
            f" THEN {staging}.{quote(c)} ELSE {name}.{quote(c)} END"
            for c in every
        )
        cursor.execute(
            f"UPDATE {name} SET {assignments} FROM {staging} WHERE {name}.id = {staging}.id"
        )


def _update_from_values(cursor, table: str, columns: list[str], rows: list[tuple]) -> None:
    """SQLite: the rows as one VALUES list per statement (in chunks under its limit of
    parameters), not a statement per row. What SQLite does at the end of each statement
    costs: the search index (migration 0011) writes out what it gathered (inserting 500,000
    users with it in step took 13 s a statement per row, 4 s a thousand rows a statement)."""
    width = len(columns) + 1
    assignments = ", ".join(f"{column} = changed.column{i}" for i, column in enumerate(columns, 1))
    row_marks = f"({', '.join('?' * width)})"
    per_statement = 32_766 // width
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        cursor.execute(
            f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([row_marks] * len(chunk))})"
            f" AS changed WHERE {table}.id = changed.column{width}",
            [value for row in chunk for value in row],
        )


def select_in(query: str, values: list) -> list[tuple]:
    """Run ``query``, SQL ending in an indexed column, with "is one of ``values``" after it:
    rows as plain tuples. SQLAlchemy would compile one bind parameter per value and wrap every
    row, which costs more than the lookup itself for thousands of addresses.

    On PostgreSQL the values go as one array (``= ANY``), and the lookup is made by index
    even where the planner's statistics predate the rows a bulk write added in this
    transaction: without them it guesses that a thousand keys match most of a table and
    scans all of it, once per batch, each time longer (100,000 rows: 3.5 s of scans).
    ANALYZE would tell it, but holds a lock to the end of the transaction that two imports
    could deadlock on."""
    if not values:
        return []
    connection = db.session.connection()
    with _driver_cursor(connection) as cursor:
        if not _is_postgresql(connection):
            cursor.execute(f"{query} IN ({in_list(connection, len(values))})", tuple(values))
            return cursor.fetchall()
        # For this statement only. (Not in a "finally": after a failed statement the
        # transaction takes no other, and ends, setting and all.) The three are sent at once
        # (libpq's pipeline mode): one round trip, not three, hundreds of times an import.
        driver = cursor.connection
        with driver.cursor() as lookup:
            with driver.pipeline():
                cursor.execute("SET LOCAL enable_seqscan = off")
                lookup.execute(f"{query} = ANY(%s)", (list(values),))
                cursor.execute("RESET enable_seqscan")
            return lookup.fetchall()


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
