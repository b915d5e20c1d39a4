"""Load: 50 admins browse and search Users › Manage while an import and an export run.

Serves the app with gunicorn (4 workers) on loopback, with a worker process, the embedded
Redis and a local mail sink, on a fresh SQLite database of 100,000 users. Each admin has a
session of their own and, for --seconds, requests a page (the list, a search, a deeper page,
a level filter, the imports page), then thinks for --think seconds on average (0 for none).
Five seconds in, another admin uploads a 100,000-row file through the wizard and starts the
import, and asks for an export of every user. Prints requests/s, p50/p95/p99 latency and
errors per kind of request, overall and while the import or export job was running, and how
long the import and export took under this load.

    .venv/bin/python bench/load_bench.py [--admins 50] [--seconds 60] [--think 1.0]
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from import_bench import make_file  # noqa: E402
from sqlalchemy import select  # noqa: E402
from tests.processes import WebClient, free_port, web_process  # noqa: E402
from users_list_bench import fill  # noqa: E402

from huddle import create_app, devmail, queue  # noqa: E402
from huddle.extensions import db  # noqa: E402
from huddle.models import User  # noqa: E402

PASSWORD = "bench password"
SEARCHES = ("jansen", "de vries", "bakker", "emma", "user12", "smit", "visser", "noah")
HTMX = {"HX-Request": "true", "HX-Target": "users-table"}


def prepare(instance: Path, users: int, admins: int) -> None:
    """A migrated database with ``users`` users in 3 levels and ``admins`` admins."""
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'huddle.db'}"})
    with app.app_context():
        upgrade()
        fill(users)  # also makes bench-admin@example.org
        template = db.session.scalar(select(User).where(User.email == "bench-admin@example.org"))
        for n in range(1, admins + 1):
            admin = User(email=f"admin{n}@bench.example", first_name="Admin", last_name=str(n))
            admin.is_admin, admin.password_hash = True, template.password_hash
            db.session.add(admin)
        db.session.commit()
        # The embedded Redis belongs to this process: it outlives web and worker restarts and
        # is stopped at the end.
        queue.get_redis().ping()


class Samples:
    """Latencies by kind of request, each with when it ended, and the errors."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_kind: dict[str, list[tuple[float, float]]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)

    def add(self, kind: str, seconds: float, ended: float, error: str | None) -> None:
        with self.lock:
            self.by_kind[kind].append((ended, seconds))
            if error:
                self.errors[kind].append(error)


def browse(client: WebClient, samples: Samples, stop: threading.Event, think: float, rng) -> None:
    """One admin clicking around Users › Manage until ``stop`` is set."""
    time.sleep(rng.uniform(0, think))  # admins do not all click at the same instant
    while not stop.is_set():
        level, page = rng.randint(1, 3), rng.randint(1, 9)
        kind, path, headers = rng.choice(
            [
                ("list, page 1", "/users", None),
                ("search", f"/users?q={rng.choice(SEARCHES).replace(' ', '+')}", HTMX),
                ("list, page N", f"/users?page={rng.randint(2, 2000)}", HTMX),
                ("level filter", f"/users?level={level}&page={page}", HTMX),
                ("imports page", "/imports", None),
            ]
        )
        t0 = time.monotonic()
        error = None
        try:
            status, _, _ = client.request(path, headers=headers or {})
            if status != 200:
                error = f"{path}: HTTP {status}"
        except Exception as exc:  # a refused or reset connection is an error to count
            error = f"{path}: {type(exc).__name__}: {exc}"
        ended = time.monotonic()
        samples.add(kind, ended - t0, ended, error)
        if think:
            time.sleep(rng.uniform(0.5 * think, 1.5 * think))


def import_and_export(base: str, db_file: Path, import_file: Path, times: dict) -> None:
    """The heavy work: an admin's 100,000-row import through the wizard, and an export."""
    client = WebClient(base)
    client.post("/login", {"email": "bench-admin@example.org", "password": PASSWORD})
    t0 = times["upload started"] = time.monotonic()
    _, headers, _ = client.post(
        "/imports/new/upload", {}, files={"file": ("groot.csv", import_file.read_bytes())}
    )
    times["upload + check (web request)"] = time.monotonic() - t0
    public_id = headers["Location"].split("/imports/")[1].split("/")[0]
    client.post(f"/imports/{public_id}/levels", {"level_ids": ["1", "2"]})
    client.post(f"/imports/{public_id}/mails", {})
    client.post(f"/imports/{public_id}/confirm", {})
    times["import started"] = time.monotonic()
    client.post("/exports", {"format": "csv", "scope": "matching"})
    times["export started"] = time.monotonic()
    with sqlite3.connect(db_file) as conn:
        while "import done" not in times or "export done" not in times:
            time.sleep(0.5)
            (status,) = conn.execute(
                "SELECT status FROM import_runs WHERE public_id = ?", (public_id,)
            ).fetchone()
            if status in ("done", "failed") and "import done" not in times:
                times["import done"], times["import status"] = time.monotonic(), status
            row = conn.execute("SELECT status FROM exports ORDER BY id DESC LIMIT 1").fetchone()
            if row and row[0] in ("done", "failed") and "export done" not in times:
                times["export done"], times["export status"] = time.monotonic(), row[0]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def report(samples: Samples, seconds: float, busy: tuple[float, float]) -> None:
    print(f"\n{'request':<16}{'count':>7}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
          f"{'errors':>8}  p95 ms: busy    quiet")  # fmt: skip
    everything, during, quiet = [], [], []
    for kind, values in sorted(samples.by_kind.items()):
        latencies = [s for _, s in values]
        busy_latencies = [s for ended, s in values if busy[0] <= ended <= busy[1]]
        quiet_latencies = [s for ended, s in values if not busy[0] <= ended <= busy[1]]
        everything += latencies
        during += busy_latencies
        quiet += quiet_latencies
        errors = len(samples.errors[kind])
        _line(kind, latencies, seconds, errors, busy_latencies, quiet_latencies)
    errors = sum(len(e) for e in samples.errors.values())
    _line("all", everything, seconds, errors, during, quiet)
    for kind, messages in samples.errors.items():
        for message in messages[:5]:
            print(f"  error ({kind}): {message}")


def _line(kind, latencies, seconds, errors, busy_latencies, quiet_latencies) -> None:
    if not latencies:
        return
    p = [percentile(latencies, q) * 1000 for q in (0.5, 0.95, 0.99)]
    busy, quiet = (
        f"{percentile(values, 0.95) * 1000:9.1f}" if values else f"{'n/a':>9}"
        for values in (busy_latencies, quiet_latencies)
    )
    print(f"{kind:<16}{len(latencies):>7}{len(latencies) / seconds:>8.1f}"
          f"{p[0]:>9.1f}{p[1]:>9.1f}{p[2]:>9.1f}{errors:>8}{busy}{quiet}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admins", type=int, default=50)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the import file")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between clicks")
    parser.add_argument("--web-workers", type=int, default=4)
    args = parser.parse_args()

    instance = Path(tempfile.mkdtemp(prefix="huddle-load-"))
    os.environ["HUDDLE_INSTANCE_PATH"] = str(instance)
    db_file = instance / "huddle.db"
    t0 = time.perf_counter()
    prepare(instance, args.users, args.admins)
    import_file = instance / "groot.csv"
    make_file(args.rows, import_file)
    print(f"{args.users:,} users, {args.admins} admins and a {args.rows:,}-row file "
          f"made in {time.perf_counter() - t0:.0f} s ({instance})")  # fmt: skip

    mail_port = free_port()
    sink = devmail.start_sink(instance / "outbox", port=mail_port)
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db_file}",
        "SECRET_KEY": "load-bench-secret",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(mail_port),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with web_process(env, free_port(), workers=args.web_workers) as base:
            run(base, args, db_file, import_file)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        sink.stop()
        queue.stop_embedded_server()


def run(base: str, args, db_file: Path, import_file: Path) -> None:
    clients = []
    for n in range(1, args.admins + 1):
        client = WebClient(base)
        client.post("/login", {"email": f"admin{n}@bench.example", "password": PASSWORD})
        clients.append(client)
    print(f"gunicorn with {args.web_workers} workers at {base}; {args.admins} admins logged in; "
          f"think time {args.think} s; at least {args.seconds:.0f} s of browsing")  # fmt: skip

    samples, times, stop = Samples(), {}, threading.Event()
    start = time.monotonic()
    threads = [
        threading.Thread(
            target=browse, args=(client, samples, stop, args.think, random.Random(n)), daemon=True
        )
        for n, client in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    time.sleep(5)
    heavy = threading.Thread(
        target=import_and_export, args=(base, db_file, import_file, times), daemon=True
    )
    heavy.start()
    # Browsing goes on for --seconds, and at least until the import and export are done.
    time.sleep(max(0.0, start + args.seconds - time.monotonic()))
    heavy.join(timeout=900)
    stop.set()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - start

    now = time.monotonic()
    began = times.get("upload started", now)
    ended = max(times.get("import done", now), times.get("export done", now))
    report(samples, seconds, (began, ended))
    print()
    print(f"upload + check of {args.rows:,} rows (one web request): "
          f"{times.get('upload + check (web request)', float('nan')):.1f} s")  # fmt: skip
    for job in ("import", "export"):
        if f"{job} done" in times:
            took = times[f"{job} done"] - times[f"{job} started"]
            print(f"{job} job under load: {times[f'{job} status']} in {took:.1f} s")
        else:
            print(f"{job} job under load: not finished")
    all_latencies = [s for values in samples.by_kind.values() for _, s in values]
    print(f"median over everything: {statistics.median(all_latencies) * 1000:.1f} ms")
    print("busy: from the upload until the import and export jobs are done; quiet: the rest")


if __name__ == "__main__":
    main()
