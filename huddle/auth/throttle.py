"""Failed log-ins, counted in Redis per account and per address (IP): after too many within
a while, logging in waits, whatever the password, so passwords cannot be guessed at speed.

Counters live in the app's own Redis connection (``REDIS_URL`` or the embedded server), so
every web process shares them. When Redis is down, logging in still works (and is logged):
locking every admin out would be worse than a while without the brake.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging

from flask import current_app

from .. import queue

log = logging.getLogger(__name__)


def _keys(email: str, address: str) -> tuple[str, str]:
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return f"huddle:login:account:{account}", f"huddle:login:address:{address}"


def seconds_to_wait(email: str, address: str) -> int:
    """0 when a log-in may be tried now, else how many seconds until it may."""
    config = current_app.config
    limits = (config["LOGIN_MAX_FAILURES_PER_ACCOUNT"], config["LOGIN_MAX_FAILURES_PER_ADDRESS"])
    keys = _keys(email, address)
    try:
        connection = queue.get_redis()
        counts = connection.mget(keys)
        waits = [
            connection.ttl(key)
            for key, count, limit in zip(keys, counts, limits, strict=True)
            if count is not None and int(count) >= limit
        ]
    except queue.REDIS_DOWN:
        log.warning("Log-in limits not checked: Redis is unreachable")
        return 0
    return max((wait for wait in waits if wait > 0), default=0)


def record_failure(email: str, address: str) -> None:
    """Count a failed login for the account and for the address it came from."""
    window = current_app.config["LOGIN_FAILURE_WINDOW_SECONDS"]
    try:
        connection = queue.get_redis()
        for key in _keys(email, address):
            if connection.incr(key) == 1:
                connection.expire(key, window)  # the window starts at the first failure
    except queue.REDIS_DOWN:
        log.warning("Failed log-in not counted: Redis is unreachable")


def record_success(email: str, address: str) -> None:
    """The account's count starts again; the address's stays (it may be trying many)."""
    with contextlib.suppress(*queue.REDIS_DOWN):
        queue.get_redis().delete(_keys(email, address)[0])
