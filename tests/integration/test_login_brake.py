"""The brakes on guessing, against the app as production runs it: gunicorn with several
processes and threads sharing one Redis, behind a proxy or not.

- Guesses sent all at once are counted before any password is checked: at most the limit
  are checked.
- Behind a proxy (``TRUSTED_PROXIES``), one client's failures brake that client, not every
  admin behind the same proxy; without it, a client cannot dodge the brake by naming its own
  address in X-Forwarded-For.
- An address with an account and one without answer in the same time.
- "Forgot your password?" sends at most ``RESET_MAILS_PER_HOUR`` mails to one mailbox.
"""

from __future__ import annotations

import statistics
import threading
import time
import urllib.parse

import pytest

from ..helpers import (
    ADMIN_PASSWORD,
    WebClient,
    free_port,
    make_user,
    run_worker,
    wait_for_mail,
    web_process,
    worker_env,
)


@pytest.fixture
def env(app, smtp_sink):
    return worker_env(app, smtp_sink)


def _login_body(client: WebClient, email: str, password: str) -> bytes:
    fields = {"csrf_token": client.csrf_token(), "email": email, "password": password}
    return urllib.parse.urlencode(fields).encode()


def _log_in(client: WebClient, email: str, password: str) -> int:
    status, _, _ = client.request(
        "/login",
        _login_body(client, email, password),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    return status


def test_guesses_sent_at_once_are_counted_before_any_is_checked(env, admin):
    # gthread workers: 4 processes × 8 threads answer the 25 guesses side by side.
    with web_process(env, free_port(), workers=4, threads=8) as base:
        clients = [WebClient(base) for _ in range(25)]
        bodies = [
            _login_body(client, admin.email, f"guess {i}") for i, client in enumerate(clients)
        ]
        statuses: list[int] = []
        start = threading.Barrier(len(clients))

        def guess(client: WebClient, body: bytes) -> None:
            start.wait()
            status, _, _ = client.request(
                "/login", body, {"Content-Type": "application/x-www-form-urlencoded"}
            )
            statuses.append(status)

        threads = [
            threading.Thread(target=guess, args=pair) for pair in zip(clients, bodies, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        checked = statuses.count(401)  # "do not match": the password was checked
        assert sorted(set(statuses)) == [401, 429]
        assert 1 <= checked <= 5, statuses
        # The account waits now, whatever the password.
        assert _log_in(WebClient(base), admin.email, ADMIN_PASSWORD) == 429


def test_behind_a_proxy_one_clients_failures_do_not_lock_out_another(env, admin):
    with web_process({**env, "TRUSTED_PROXIES": "1"}, free_port()) as base:
        attacker = WebClient(base)
        attacker.headers["X-Forwarded-For"] = "203.0.113.9"
        # 30 made-up addresses (the per-address limit): then that client waits.
        for i in range(30):
            assert _log_in(attacker, f"made-up-{i}@example.org", "guess") == 401
        assert _log_in(attacker, admin.email, ADMIN_PASSWORD) == 429

        # The admin, behind the same proxy but on another computer, logs in.
        colleague = WebClient(base)
        colleague.headers["X-Forwarded-For"] = "198.51.100.7"
        assert _log_in(colleague, admin.email, ADMIN_PASSWORD) == 302


def test_without_trusted_proxies_a_client_cannot_name_its_own_address(env, admin):
    with web_process(env, free_port()) as base:
        for i in range(30):
            client = WebClient(base)
            client.headers["X-Forwarded-For"] = f"192.0.2.{i}"  # a new address each time
            assert _log_in(client, f"made-up-{i}@example.org", "guess") == 401
        client = WebClient(base)
        client.headers["X-Forwarded-For"] = "192.0.2.200"
        assert _log_in(client, admin.email, ADMIN_PASSWORD) == 429


def test_an_address_with_an_account_answers_as_fast_as_one_without(env, app_ctx):
    # Ten accounts (one guess each: no account brake), ten made-up addresses, taken in turn.
    known = [make_user(f"known{i}@example.org", password=ADMIN_PASSWORD) for i in range(10)]
    unknown = [f"unknown{i}@example.org" for i in range(10)]
    timings: dict[str, list[float]] = {"known": [], "unknown": []}
    with web_process(env, free_port(), workers=1) as base:
        # Each worker makes its stand-in hash once: not part of what is measured.
        _log_in(WebClient(base), "warm-up@example.org", "guess")
        for user, address in zip(known, unknown, strict=True):
            for kind, email in (("known", user.email), ("unknown", address)):
                client = WebClient(base)
                body = _login_body(client, email, "not the password")
                began = time.perf_counter()
                status, _, _ = client.request(
                    "/login", body, {"Content-Type": "application/x-www-form-urlencoded"}
                )
                timings[kind].append(time.perf_counter() - began)
                assert status == 401
    known_ms = statistics.median(timings["known"]) * 1000
    unknown_ms = statistics.median(timings["unknown"]) * 1000
    assert abs(known_ms - unknown_ms) < 20, (known_ms, unknown_ms)


def test_forgot_password_sends_at_most_the_limit_to_one_mailbox(app, env, member, smtp_sink):
    with web_process(env, free_port()) as base:
        answers = []
        for _ in range(25):
            client = WebClient(base)
            status, headers, _ = client.post("/forgot-password", {"email": member.email})
            if status == 302:
                _, _, page = client.get(urllib.parse.urlsplit(headers["Location"]).path)
                answers.append("If an account exists for that address" in page)
            else:
                answers.append(status)
        # The same answer every time until this client has asked 20 times in the hour; then
        # it is told to wait (which says nothing about the account).
        assert answers[:20] == [True] * 20
        assert answers[20:] == [429] * 5

        run_worker(app)
        mails = wait_for_mail(smtp_sink["outbox"], count=3)
        time.sleep(0.3)
        assert len(list(smtp_sink["outbox"].glob("*.eml"))) == 3  # RESET_MAILS_PER_HOUR
        assert {mail.to for mail in mails} == {member.email}
