"""How fast Users > Manage renders with many users: page 1, page 2,000, search and filter.

Fills a fresh database with N users (default 100,000), logs in, and times full HTTP requests
through the app (query + template), next to two baselines on the same data with plain
``sqlite3``: the naive ``SELECT * ... OFFSET`` a list page would do without our index work, and
the bare id query our page uses. Prints median and p95 in milliseconds.

    .venv/bin/python bench/users_list_bench.py [--users 100000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from huddle import create_app  # noqa: E402
from huddle.demo import FIRST_NAMES, INFIXES, LAST_NAMES  # noqa: E402
from huddle.extensions import db  # noqa: E402
from huddle.models import Level, User, UserLevel  # noqa: E402

PER_PAGE = 50


def fill(count: int) -> None:
    rng = random.Random(1)
    levels = [Level(name=name) for name in ("Basis", "Verdieping", "Trainers")]
    db.session.add_all(levels)
    admin = User(email="bench-admin@example.org", first_name="Bench", last_name="Admin")
    admin.is_admin = True
    admin.set_password("bench password")
    db.session.add(admin)
    db.session.commit()
    start = datetime(2024, 1, 1)
    batch, grants = [], []
    for i in range(1, count + 1):
        batch.append(
            {
                "id": i + 1,
                "email": f"user{i}@example.org",
                "first_name": rng.choice(FIRST_NAMES),
                "infix": rng.choice(INFIXES),
                "last_name": rng.choice(LAST_NAMES),
                "phone": "",
                "organisation": "",
                "job_title": "",
                "language": "nl",
                "is_admin": False,
                "password_hash": "",
                "created_at": start + timedelta(minutes=i),
                "updated_at": start + timedelta(minutes=i),
            }
        )
        if rng.random() < 0.6:
            grants.append({"user_id": i + 1, "level_id": levels[rng.randrange(3)].id})
        if len(batch) == 10_000:
            db.session.execute(insert(User), batch)
            batch = []
    if batch:
        db.session.execute(insert(User), batch)
    db.session.execute(insert(UserLevel), grants)
    db.session.commit()


def timed(fn, repeat: int) -> list[float]:
    fn()  # warm up caches
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


def report(label: str, samples: list[float]) -> None:
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    print(f"  {label:<46} median {statistics.median(samples):7.1f} ms   p95 {p95:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    instance = Path(tempfile.mkdtemp(prefix="huddle-bench-"))
    os.environ["HUDDLE_INSTANCE_PATH"] = str(instance)
    db_file = instance / "bench.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_file}", "TESTING": True})
    app.config["WTF_CSRF_ENABLED"] = False  # the benchmark times reads, not the login form
    with app.app_context():
        upgrade()
        t0 = time.perf_counter()
        fill(args.users)
        print(f"Filled {args.users:,} users in {time.perf_counter() - t0:.1f} s ({db_file})")

    client = app.test_client()
    client.post("/login", data={"email": "bench-admin@example.org", "password": "bench password"})
    last_page = (args.users + 1 + PER_PAGE - 1) // PER_PAGE
    deep = min(2000, last_page)
    htmx = {"HX-Request": "true", "HX-Target": "users-table"}

    def get(url: str, headers=None):
        def run():
            response = client.get(url, headers=headers)
            assert response.status_code == 200, (url, response.status_code)

        return run

    print(f"\nHuddle Users > Manage, {args.users:,} users, {PER_PAGE} per page (full HTTP + HTML):")
    report("page 1, sorted by name (full page)", timed(get("/users"), args.repeat))
    report(
        f"page {deep:,}, sorted by name (full page)", timed(get(f"/users?page={deep}"), args.repeat)
    )
    report(
        f"page {deep:,}, newest first (htmx fragment)",
        timed(get(f"/users?sort=-created&page={deep}", htmx), args.repeat),
    )
    report(
        f"page {deep:,}, by e-mail (htmx fragment)",
        timed(get(f"/users?sort=email&page={deep}", htmx), args.repeat),
    )
    report("search 'jansen' (htmx fragment)", timed(get("/users?q=jansen", htmx), args.repeat))
    report(
        "filter level 2, page 100 (htmx fragment)",
        timed(get("/users?level=2&page=100", htmx), args.repeat),
    )

    conn = sqlite3.connect(db_file)
    offset = (deep - 1) * PER_PAGE

    def naive():
        conn.execute(
            "SELECT * FROM users ORDER BY last_name, first_name, id LIMIT ? OFFSET ?",
            (PER_PAGE, offset),
        ).fetchall()

    def ids_only():
        conn.execute(
            "SELECT id FROM users ORDER BY last_name, first_name, id LIMIT ? OFFSET ?",
            (PER_PAGE, offset),
        ).fetchall()

    print(f"\nBaseline: plain sqlite3, page {deep:,} sorted by name (query only, no HTML):")
    report("naive SELECT * ... OFFSET", timed(naive, args.repeat))
    report("id-only query on the covering index (ours)", timed(ids_only, args.repeat))


if __name__ == "__main__":
    main()
