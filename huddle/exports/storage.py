"""An export's file, kept in the database in pieces of CHUNK_BYTES.

Any worker can store a file and the web app can serve it without a shared disk, and neither
holds more than one piece in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from sqlalchemy import delete, func, insert, select

from ..extensions import db
from ..models import ExportChunk

CHUNK_BYTES = 1 << 20


def save_file(export_id: int, source: BinaryIO) -> int:
    """Store ``source`` (read from where it is) as the export's file; returns its size."""
    db.session.execute(delete(ExportChunk).where(ExportChunk.export_id == export_id))
    size = 0
    seq = 0
    while piece := source.read(CHUNK_BYTES):
        # A Core insert: ORM objects would keep every piece in the session until commit.
        db.session.execute(insert(ExportChunk).values(export_id=export_id, seq=seq, data=piece))
        size += len(piece)
        seq += 1
    return size


def iter_file(export_id: int) -> Iterator[bytes]:
    """The file's pieces in order, one query each."""
    count = db.session.scalar(
        select(func.count()).select_from(ExportChunk).where(ExportChunk.export_id == export_id)
    )
    for seq in range(count):
        yield db.session.scalar(
            select(ExportChunk.data).where(
                ExportChunk.export_id == export_id, ExportChunk.seq == seq
            )
        )


def read_file(export_id: int) -> bytes:
    """The whole file (for a mail attachment, which is small)."""
    return b"".join(iter_file(export_id))


def delete_file(export_id: int) -> None:
    """Delete the export's file (its pieces)."""
    db.session.execute(delete(ExportChunk).where(ExportChunk.export_id == export_id))
