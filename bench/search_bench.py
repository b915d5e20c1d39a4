"""Search on Users › Manage with many users, served by gunicorn, 1 and 8 clients at once.

Fills a fresh database (SQLite, or with --database postgresql a new database on DATABASE_URL's
server) with N users, serves the app with gunicorn (a worker per core, as deployed), logs in,
and has C clients search at once, each word of a varied list in turn (names, parts of names,
an infix, parts of addresses, words of one and two letters, a word no one has). Prints p50 and
p95 of whole HTTP requests (the htmx fragment: query + HTML), and in the same run the floor it
replaces: the search as it was, four LIKE '%word%' over every user, timed on the driver
alone (no HTTP, no HTML), one client; and the ratios of ours to it. The clients run on the
same machine as the server and the database: at 8 clients on 2 cores, all share them.

    .venv/bin/python bench/search_bench.py [--users 100000] [--database sqlite|postgresql]
        [--clients 1,8] [--rounds 5]
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

WORDS = [
    "jansen",
    "de vries",
    "pieter",
    "bakker",
    "van der",
    "ber",
    "example.org",
    "user4711@",
    "zo",
    "e",
    "anouk visser",
    "nobody-is-called-this",
]
HTMX = {"HX-Request": "true", "HX-Target": "users-table"}
PASSWORD = "bench password"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database(kind: str, instance: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{instance / 'bench.db'}"
    import psycopg

    server = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    server = server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS huddle_search_bench WITH (FORCE)")
        conn.execute("CREATE DATABASE huddle_search_bench")
    return server.rsplit("/", 1)[0] + "/huddle_search_bench"


def _fill(url: str, users: int) -> None:
    from flask_migrate import upgrade
    from users_list_bench import fill

    from huddle import create_app
    from huddle.extensions import db

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://")}
    )
    with app.app_context():
        upgrade()
        fill(users)
        if db.engine.dialect.name == "postgresql":
            db.session.execute(db.text("ANALYZE"))  # as autovacuum would have by now
            db.session.commit()
        db.engine.dispose()


def _login(base: str) -> str:
    """The session cookie of the bench's admin (``users_list_bench.fill`` made them)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = {"email": "bench-admin@example.org", "password": PASSWORD, "csrf_token": token}
    opener.open(f"{base}/login", urllib.parse.urlencode(form).encode())
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)


def _searches(base: str, cookie: str, clients: int, rounds: int) -> list[float]:
    """Every client searches every word ``rounds`` times, starting at a different word."""
    timings: list[float] = []
    lock = threading.Lock()

    def client(offset: int) -> None:
        mine = []
        for i in range(rounds * len(WORDS)):
            word = WORDS[(offset + i) % len(WORDS)]
            request = urllib.request.Request(
                f"{base}/users?" + urllib.parse.urlencode({"q": word}),
                headers={**HTMX, "Cookie": cookie},
            )
            t0 = time.perf_counter()
            with urllib.request.urlopen(request) as response:
                response.read()
                assert response.status == 200
            mine.append((time.perf_counter() - t0) * 1000)
        with lock:
            timings.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings


def _like_scan(url: str, rounds: int) -> list[float]:
    """The search as it was, on the driver alone: four LIKE over every user, the page sorted
    by name, with the count of all found."""
    postgresql = url.startswith("postgresql")
    if postgresql:
        import psycopg

        conn, mark, like = psycopg.connect(url), "%s", "ILIKE"
    else:
        import sqlite3

        conn, mark, like = sqlite3.connect(url.removeprefix("sqlite:///")), "?", "LIKE"
    timings = []
    for _ in range(rounds):
        for words in WORDS:
            conditions, values = [], []
            for word in words.split():
                columns = ("email", "first_name", "infix", "last_name")
                conditions.append(
                    "(" + " OR ".join(f"{c} {like} {mark} ESCAPE '\\'" for c in columns) + ")"
                )
                escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                values += [f"%{escaped}%"] * 4
            sql = (
                f"SELECT id, count(*) OVER () FROM users WHERE {' AND '.join(conditions)}"
                " ORDER BY last_name, first_name, id LIMIT 50"
            )
            t0 = time.perf_counter()
            conn.execute(sql, values).fetchall()
            timings.append((time.perf_counter() - t0) * 1000)
    conn.close()
    return timings


def _percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--clients", default="1,8")
    parser.add_argument("--rounds", type=int, default=5, help="times each client runs the list")
    args = parser.parse_args()

    instance = Path(tempfile.mkdtemp(prefix="huddle-search-bench-"))
    os.environ["HUDDLE_INSTANCE_PATH"] = str(instance)
    url = _database(args.database, instance)
    t0 = time.perf_counter()
    _fill(url, args.users)
    print(f"{args.database}: {args.users:,} users filled in {time.perf_counter() - t0:.0f} s")

    port, workers = _free_port(), os.cpu_count() or 2
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "HUDDLE_INSTANCE_PATH": str(instance),
        "SECRET_KEY": "search bench",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}"]
        + ["app:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/login").read()
                break
            except OSError:
                time.sleep(0.2)
        cookie = _login(base)
        _searches(base, cookie, 1, 1)  # warm up every worker's caches
        print(f"gunicorn, {workers} workers; {len(WORDS)} searches per round: {WORDS}")
        print(f"{'':<44} {'p50 ms':>8} {'p95 ms':>8}")
        results = {}
        for clients in (int(c) for c in args.clients.split(",")):
            p50, p95 = _percentiles(_searches(base, cookie, clients, args.rounds))
            results[clients] = p95
            print(f"(a) ours, HTTP + HTML, {clients} client(s){'':<16} {p50:8.1f} {p95:8.1f}")
        p50, p95 = _percentiles(_like_scan(url, args.rounds))
        print(f"(b) LIKE over every user (before), query only {p50:8.1f} {p95:8.1f}")
        for clients, ours in results.items():
            print(f"(a) p95 at {clients} client(s) / (b) p95 = {ours / p95:.2f}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
