"""The rows of an import's outcome that created a user and have nothing else to tell, kept
a block per batch (``CreatedBlock``) instead of an ImportRow each.

Nearly every row of a large import is such a row, and an indexed table row for each cost a
fifth of the import's time on PostgreSQL. A block holds, by line: the line, the new user's
id, the address, and which of the block's level sets the user gained. ``every_row`` reads
blocks and ImportRows back as one list, the way the outcome download and the command
line's report show them.
"""

from __future__ import annotations

import heapq
import json
from bisect import bisect_right
from collections.abc import Iterator

from sqlalchemy import func, select

from ..bulk import insert_many, select_in
from ..extensions import db
from ..models import CreatedBlock, ImportRow
from ..pipeline.planning import RowAction
from .lookups import EarlierLines

BLOCK_COLUMNS = ("import_id", "first_line", "first_id", "last_id", "count", "data")
# Stored rows read from the database at a time.
ROWS_PER_READ = 5000


def write_block(import_id: int, created: list[tuple[int, int, str, tuple[str, ...]]]) -> None:
    """Store ``created``, (line, user id, address, levels gained) of each row of one batch
    that created a user, as one block."""
    if not created:
        return
    created.sort()
    level_sets: dict[tuple[str, ...], int] = {}
    rows = [
        [line, user_id, email, level_sets.setdefault(levels, len(level_sets))]
        for line, user_id, email, levels in created
    ]
    ids = [user_id for _, user_id, _, _ in created]
    data = json.dumps({"levels": list(level_sets), "rows": rows}, ensure_ascii=False)
    block = (import_id, created[0][0], min(ids), max(ids), len(created), data)
    insert_many(CreatedBlock.__table__, BLOCK_COLUMNS, [block])


def _block_rows(data: str) -> list[tuple]:
    """A block's rows as the outcome lists every row: (line, email, action, problems,
    changes)."""
    block = json.loads(data)
    changes = [{"fields": {}, "levels": levels} for levels in block["levels"]]
    create = RowAction.CREATE.value
    return [(line, email, create, [], changes[k]) for line, _, email, k in block["rows"]]


def created_count(import_id: int) -> int:
    """How many users the blocks of an import say it created."""
    return db.session.scalar(
        select(func.coalesce(func.sum(CreatedBlock.count), 0)).where(
            CreatedBlock.import_id == import_id
        )
    )


def delete_blocks(import_id: int) -> None:
    """Forget the blocks of an import (which is about to be done again)."""
    db.session.execute(CreatedBlock.__table__.delete().where(CreatedBlock.import_id == import_id))


def every_row(import_id: int) -> Iterator[tuple]:
    """Every stored row of an import, by line: (line, email, action, problems, changes),
    from its ImportRows and its blocks, read a part at a time."""
    stored = (
        select(ImportRow.line, ImportRow.email, ImportRow.action, ImportRow.problems)
        .add_columns(ImportRow.changes)
        .where(ImportRow.import_id == import_id)
        .order_by(ImportRow.line)
        .execution_options(yield_per=ROWS_PER_READ)
    )
    # Blocks come one batch of the file after the other, so in line order block by block.
    blocks = (
        select(CreatedBlock.data)
        .where(CreatedBlock.import_id == import_id)
        .order_by(CreatedBlock.first_line)
        .execution_options(yield_per=20)
    )
    # Both in the session's transaction, each streamed.
    connection = db.session.connection()
    from_blocks = (row for (data,) in connection.execute(blocks) for row in _block_rows(data))
    yield from heapq.merge(
        (tuple(row) for row in connection.execute(stored)), from_blocks, key=_line
    )


def _line(row: tuple) -> int:
    return row[0]


def with_created_lines(earlier_lines: EarlierLines, import_id: int) -> EarlierLines:
    """``earlier_lines`` that also finds addresses whose row created a user and was kept in a
    block: through the user the address belongs to, whose id lies in one block's range."""

    def lookup(emails: list[str]) -> dict[str, int]:
        found = earlier_lines(emails)
        rest = [email for email in emails if email not in found]
        if rest:
            found.update(_created_lines(import_id, rest))
        return found

    return lookup


def _created_lines(import_id: int, emails: list[str]) -> dict[str, int]:
    ids = dict(select_in("SELECT id, email FROM users WHERE email", emails))
    if not ids:
        return {}
    ranges = db.session.execute(
        select(CreatedBlock.first_id, CreatedBlock.last_id, CreatedBlock.first_line)
        .where(CreatedBlock.import_id == import_id)
        .order_by(CreatedBlock.first_id)
    ).all()
    starts = [first_id for first_id, _, _ in ranges]
    wanted = set()
    for user_id in ids:
        at = bisect_right(starts, user_id) - 1
        if at >= 0 and user_id <= ranges[at].last_id:
            wanted.add(ranges[at].first_line)
    if not wanted:
        return {}
    found = {}
    for (data,) in db.session.execute(
        select(CreatedBlock.data).where(
            CreatedBlock.import_id == import_id, CreatedBlock.first_line.in_(wanted)
        )
    ):
        for line, user_id, _email, _ in json.loads(data)["rows"]:
            if user_id in ids:
                found[ids[user_id]] = line
    return found
