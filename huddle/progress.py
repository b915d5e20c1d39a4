"""Progress of background work (an import, an export), kept in Redis: an import's own
transaction is not visible to the web process until it commits, and a progress write to the
database would wait for any import that holds SQLite's write lock."""

from __future__ import annotations

import os
import time

from . import queue

_TTL = 24 * 3600


def _key(kind: str, work_id: int) -> str:
    return f"huddle:{kind}:{work_id}:progress"


def reporter(kind: str, work_id: int, total: int):
    """A callback ``report(done)`` that records rows done (at most ~4 writes a second) for
    the work of ``kind`` ("import", "export") with this id."""
    connection = queue.get_redis()
    key = _key(kind, work_id)
    started = time.monotonic()
    last = 0.0
    # "pid": the process doing the work, to tell which one to look at (or stop).
    connection.hset(key, mapping={"done": 0, "total": total, "seconds": 0, "pid": os.getpid()})
    connection.expire(key, _TTL)

    def report(done: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= 0.25 or done >= total:
            last = now
            connection.hset(key, mapping={"done": done, "total": total, "seconds": now - started})

    return report


def read(kind: str, work_id: int) -> dict | None:
    """{"done", "total", "rate", "pid"} for running work, or None when nothing is recorded."""
    try:
        raw = queue.get_redis().hgetall(_key(kind, work_id))
    except queue.REDIS_DOWN:
        return None
    if not raw:
        return None
    done, total = int(raw[b"done"]), int(raw[b"total"])
    seconds = float(raw[b"seconds"])
    rate = int(done / seconds) if seconds > 0 else 0
    return {"done": done, "total": total, "rate": rate, "pid": int(raw.get(b"pid", 0))}
