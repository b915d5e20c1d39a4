"""Brakes on guessing, counted in Redis so that every web process shares them.

Log-ins: every attempt is counted, per account and per client address, *before* the password
is checked, in one Redis transaction: of 25 guesses sent at once only the first few are
checked, the others wait whatever their password. A success takes its attempt back (and
starts the account's count again).

Set-password mails ("forgot your password?"): counted per client address (too many and the
page says so: that tells nothing about accounts) and per mailbox (over the limit the mail is
quietly not sent, with the same answer as ever: the answer never tells who has an account).

The client address is the one the request came from; behind a reverse proxy it is the one
the proxy names, and only when ``TRUSTED_PROXIES`` says how many proxies there are (see
``huddle.security``): a client cannot choose its own address to dodge the brake.

When Redis is down the brakes are off (and that is logged): locking every admin out would be
worse than a while without them.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from dataclasses import dataclass

from flask import current_app

from .. import queue

log = logging.getLogger(__name__)

HOUR = 60 * 60


@dataclass(frozen=True)
class _Counter:
    key: str
    limit: int
    window: int  # seconds from the first attempt


def _account(email: str) -> str:
    # Hashed: the keys in Redis do not list who was tried.
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def _count(counters: list[_Counter]) -> int:
    """Add one to every counter at once (each starts its window at its first attempt); 0 when
    all are within their limits, else the seconds until the longest wait ends."""
    connection = queue.get_redis()
    with connection.pipeline(transaction=True) as pipe:  # MULTI … EXEC: one step for Redis
        for counter in counters:
            pipe.set(counter.key, 0, ex=counter.window, nx=True)
            pipe.incr(counter.key)
            pipe.ttl(counter.key)
        replies = pipe.execute()
    waits = [
        max(int(ttl), 1)
        for counter, count, ttl in zip(counters, replies[1::3], replies[2::3], strict=True)
        if int(count) > counter.limit
    ]
    return max(waits, default=0)


def _login_counters(email: str, address: str) -> list[_Counter]:
    config = current_app.config
    window = config["LOGIN_FAILURE_WINDOW_SECONDS"]
    return [
        _Counter(
            f"huddle:login:account:{_account(email)}",
            config["LOGIN_MAX_FAILURES_PER_ACCOUNT"],
            window,
        ),
        _Counter(
            f"huddle:login:address:{address}", config["LOGIN_MAX_FAILURES_PER_ADDRESS"], window
        ),
    ]


def count_login_attempt(email: str, address: str) -> int:
    """Count a log-in attempt before its password is checked: 0 when it may be checked, else
    how many seconds until the account (or this address) may try again."""
    try:
        return _count(_login_counters(email, address))
    except queue.REDIS_DOWN:
        log.warning("Log-in limits not checked: Redis is unreachable")
        return 0


def record_success(email: str, address: str) -> None:
    """The right password: the account's count starts again, and the address gets back the
    attempt (its count is of guesses; it may be an office of many people)."""
    account, by_address = (counter.key for counter in _login_counters(email, address))
    with contextlib.suppress(*queue.REDIS_DOWN):
        connection = queue.get_redis()
        connection.delete(account)
        if int(connection.decr(by_address)) < 0:
            connection.delete(by_address)


def count_reset_request(email: str, address: str) -> tuple[int, bool]:
    """Count a request for a set-password mail: (seconds this client address must wait, or
    0), and whether a mail may go to ``email`` (at most ``RESET_MAILS_PER_HOUR`` an hour)."""
    config = current_app.config
    by_address = _Counter(
        f"huddle:reset:address:{address}", config["RESET_REQUESTS_PER_ADDRESS_PER_HOUR"], HOUR
    )
    to_mailbox = _Counter(
        f"huddle:reset:account:{_account(email)}", config["RESET_MAILS_PER_HOUR"], HOUR
    )
    try:
        wait = _count([by_address])
        if wait:
            return wait, False
        return 0, not _count([to_mailbox])
    except queue.REDIS_DOWN:
        log.warning("Set-password mail limits not checked: Redis is unreachable")
        return 0, True
