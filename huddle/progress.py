"""Progress of background work (an import, an export), kept in Redis: an import's own
transaction is not visible to the web process until it commits, and a progress write to the
database would wait for any import that holds SQLite's write lock.

While work runs, its process also beats: a key that lives ``ALIVE_SECONDS`` and is renewed
every ``BEAT_SECONDS`` by a thread of that process. When the process is killed (with its
worker: nothing tells RQ for minutes) the key runs out, and ``alive`` says so.

Progress is for the admin to watch: when Redis cannot be reached it is lost, never the work.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time

from . import queue

log = logging.getLogger(__name__)

_TTL = 24 * 3600
BEAT_SECONDS = 5
ALIVE_SECONDS = 20  # four beats missed: the process is gone


def _key(kind: str, work_id: int) -> str:
    return f"huddle:{kind}:{work_id}:progress"


def _alive_key(kind: str, work_id: int) -> str:
    return f"huddle:{kind}:{work_id}:alive"


class Reporter:
    """``report(done)`` records rows done (at most ~4 writes a second) for the work of
    ``kind`` ("import", "export") with this id; as a context manager, the process beats
    while the block runs."""

    def __init__(self, kind: str, work_id: int, total: int):
        self.kind, self.work_id, self.total = kind, work_id, total
        self._key = _key(kind, work_id)
        self._started = time.monotonic()
        self._last = 0.0
        self._stop = threading.Event()
        self._beat_thread: threading.Thread | None = None
        self._connection = None
        try:
            connection = queue.get_redis()
            # "pid": the process doing the work, to tell which one to look at (or stop).
            with connection.pipeline() as pipe:
                pipe.hset(
                    self._key,
                    mapping={"done": 0, "total": total, "seconds": 0, "pid": os.getpid()},
                )
                pipe.expire(self._key, _TTL)
                pipe.set(_alive_key(kind, work_id), os.getpid(), ex=ALIVE_SECONDS)
                pipe.execute()
            self._connection = connection
        except queue.REDIS_DOWN:
            log.warning("No progress for %s %s: the queue (Redis) is unreachable", kind, work_id)

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if self._connection is None:
            return
        if now - self._last >= 0.25 or done >= self.total:
            self._last = now
            seconds = now - self._started
            with contextlib.suppress(*queue.REDIS_DOWN):
                self._connection.hset(
                    self._key, mapping={"done": done, "total": self.total, "seconds": seconds}
                )

    def __enter__(self) -> Reporter:
        if self._connection is None:
            return self  # no Redis, no beat: the work goes on unwatched
        self._beat_thread = threading.Thread(target=self._beat, name="heartbeat", daemon=True)
        self._beat_thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        if self._beat_thread is not None:
            self._beat_thread.join()
        if self._connection is not None:
            with contextlib.suppress(*queue.REDIS_DOWN):
                self._connection.delete(_alive_key(self.kind, self.work_id))

    def _beat(self) -> None:
        key = _alive_key(self.kind, self.work_id)
        while not self._stop.wait(BEAT_SECONDS):
            # A beat that cannot reach Redis is skipped: the work goes on.
            with contextlib.suppress(*queue.REDIS_DOWN):
                self._connection.set(key, os.getpid(), ex=ALIVE_SECONDS)


def reporter(kind: str, work_id: int, total: int) -> Reporter:
    """The progress reporter for the work of ``kind`` with this id (see ``Reporter``)."""
    return Reporter(kind, work_id, total)


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


def alive(kind: str, work_id: int) -> bool | None:
    """Whether a process is doing this work and beating; None when Redis cannot be asked."""
    try:
        return bool(queue.get_redis().exists(_alive_key(kind, work_id)))
    except queue.REDIS_DOWN:
        return None


def forget(kind: str, work_id: int) -> None:
    """Drop what was recorded of this work (its process is gone; it will start over)."""
    with contextlib.suppress(*queue.REDIS_DOWN):
        queue.get_redis().delete(_key(kind, work_id), _alive_key(kind, work_id))
