"""Progress of a running import, kept in Redis: the import's own transaction is not visible
to the web process until it commits, so rows done cannot be read from the database."""

from __future__ import annotations

import time

from .. import queue

_TTL = 24 * 3600


def _key(import_id: int) -> str:
    return f"huddle:import:{import_id}:progress"


def reporter(import_id: int, total: int):
    """A callback for ``apply_import`` that records rows done (at most ~4 writes a second)."""
    connection = queue.get_redis()
    started = time.monotonic()
    last = 0.0
    connection.hset(_key(import_id), mapping={"done": 0, "total": total, "seconds": 0})
    connection.expire(_key(import_id), _TTL)

    def report(done: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= 0.25 or done >= total:
            last = now
            connection.hset(
                _key(import_id), mapping={"done": done, "total": total, "seconds": now - started}
            )

    return report


def read(import_id: int) -> dict | None:
    """{"done", "total", "rate"} for a running import, or None when nothing is recorded."""
    try:
        raw = queue.get_redis().hgetall(_key(import_id))
    except queue.REDIS_DOWN:
        return None
    if not raw:
        return None
    done, total = int(raw[b"done"]), int(raw[b"total"])
    seconds = float(raw[b"seconds"])
    return {"done": done, "total": total, "rate": int(done / seconds) if seconds > 0 else 0}
