"""Import speed and memory: (a) check + preview, (b) the import job, (c) a plain sqlite3 baseline.

For each size it writes a realistic ;-separated file (10 % of the addresses already exist in
the database, two levels chosen for everyone) and measures, each in a fresh process on a fresh
SQLite database:

  (a) staging: read + validate + plan every row and store the preview, then page 1 of it
  (b) the import job's code (apply_import) writing everything in one transaction
  (c) a baseline with no framework: csv + sqlite3 executemany doing the same upserts and
      level links (no validation, no preview rows, no mails owed)

and prints seconds, rows/s and peak memory, and the ratio (b)/(c). Peak memory is sampled while
the measured code runs, as the proportional set size (PSS) of the process and its helper
process together: the file the helper shares with its parent counts once, not twice.

    .venv/bin/python bench/import_bench.py [--sizes 1000,10000,100000,1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from memory import PeakMemory  # noqa: E402  (bench/memory.py)

EXISTING_SHARE = 0.10
LEVELS = ("Basis", "Verdieping")


def make_file(rows: int, path: Path) -> None:
    """A file like an admin's: Dutch names, some infixes, phones, 10 % existing addresses."""
    from huddle.demo import FIRST_NAMES, INFIXES, LAST_NAMES, ORGANISATIONS
    from huddle.pipeline.columns import TEMPLATE_COLUMNS

    rng = random.Random(rows)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(TEMPLATE_COLUMNS)
        for i in range(rows):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            writer.writerow(
                [
                    f"user{i}@example.org",
                    first,
                    rng.choice(INFIXES),
                    last,
                    f"+31 6 {rng.randint(10000000, 99999999)}",
                    rng.choice(ORGANISATIONS),
                    "Docent",
                    "nl",
                    "Trainers" if i % 50 == 0 else "",
                ]
            )


def _app(db_file: Path):
    os.environ["HUDDLE_INSTANCE_PATH"] = str(db_file.parent)
    from flask_migrate import upgrade

    from huddle import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_file}"})
    with app.app_context():
        upgrade()
    return app


def _seed(app, rows: int) -> None:
    """The levels and the users that already exist (every tenth address of the file), written
    with plain sqlite3 and a generator, so that seeding adds nothing to the peak memory."""
    with app.app_context():
        from huddle.extensions import db
        from huddle.models import Level

        db.session.add_all(Level(name=name) for name in (*LEVELS, "Trainers"))
        db.session.commit()
        db_file = db.engine.url.database
    conn = sqlite3.connect(db_file)
    conn.executemany(
        "INSERT INTO users (email, first_name, infix, last_name, phone, organisation, job_title,"
        " language, is_admin, password_hash, created_at, updated_at)"
        " VALUES (?, 'Old', '', 'Name', '', '', '', 'nl', 0, '', ?, ?)",
        (
            (f"user{i}@example.org", "2025-01-01 00:00:00.000000", "2025-01-01 00:00:00.000000")
            for i in range(0, rows, int(1 / EXISTING_SHARE))
        ),
    )
    conn.commit()
    conn.close()


def measure_stage(path: Path, db_file: Path, rows: int) -> float:
    from huddle.extensions import db
    from huddle.imports.drafts import create_draft
    from huddle.imports.preview import preview_rows

    app = _app(db_file)
    _seed(app, rows)
    data = path.read_bytes()
    with app.app_context(), PeakMemory() as memory:
        t0 = time.perf_counter()
        run = create_draft(path.name, data, admin=None)
        page, _ = preview_rows(run, "all", 1)
        seconds = time.perf_counter() - t0
        assert run.rows_total == rows and len(page) == min(50, rows), run.status
        db.session.remove()
    return seconds, memory.peak_kb


def measure_apply(path: Path, db_file: Path, rows: int) -> float:
    from sqlalchemy import func, select

    from huddle.extensions import db
    from huddle.imports.applying import apply_import
    from huddle.models import ImportFile, ImportRun, Level, User

    app = _app(db_file)
    _seed(app, rows)
    data = path.read_bytes()
    with app.app_context():
        level_ids = list(db.session.scalars(select(Level.id).where(Level.name.in_(LEVELS))))
        run = ImportRun(
            filename=path.name,
            file=ImportFile(data=data),
            file_size=len(data),
            source="cli",
            level_ids=level_ids,
            fixes={},
            ignored_columns=[],
            notify_new=False,  # like the baseline: no mails owed
            notify_existing=False,
        )
        db.session.add(run)
        db.session.commit()
        # As in the job, the file is read from the database: no second copy in this process.
        del data
        db.session.expire_all()
        with PeakMemory() as memory:
            t0 = time.perf_counter()
            run = apply_import(run)
            seconds = time.perf_counter() - t0
        assert run.status == "done", run.error
        assert db.session.scalar(select(func.count()).select_from(User)) == rows
    return seconds, memory.peak_kb


def measure_baseline(path: Path, db_file: Path, rows: int) -> float:
    app = _app(db_file)
    _seed(app, rows)
    conn = sqlite3.connect(db_file)
    # The same settings as the app's connections (huddle/__init__.py), foreign keys included:
    # the baseline writes to the same tables, so it checks the same constraints.
    for pragma in (
        "foreign_keys=ON",
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "cache_size=-65536",
    ):
        conn.execute(f"PRAGMA {pragma}")
    with PeakMemory() as memory:
        t0 = time.perf_counter()
        level_ids = dict(conn.execute("SELECT name, id FROM levels"))
        chosen = [level_ids[name] for name in LEVELS]
        handle = path.open(encoding="utf-8-sig", newline="")
        reader = csv.reader(handle, delimiter=";")
        next(reader)
        now = "2026-01-01 00:00:00"
        batch = []

        def flush(batch):
            conn.executemany(
                "INSERT INTO users (email, first_name, infix, last_name, phone, organisation,"
                " job_title, language, is_admin, password_hash, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, '', ?, ?)"
                " ON CONFLICT (email) DO UPDATE SET first_name = excluded.first_name,"
                " infix = excluded.infix, last_name = excluded.last_name, phone = excluded.phone,"
                " organisation = excluded.organisation, job_title = excluded.job_title,"
                " language = excluded.language, updated_at = excluded.updated_at",
                [(r[0].lower(), *r[1:8], now, now) for r in batch],
            )
            ids = dict(
                conn.execute(
                    f"SELECT email, id FROM users WHERE email IN ({','.join('?' * len(batch))})",
                    [r[0].lower() for r in batch],
                )
            )
            links = [(ids[r[0].lower()], level) for r in batch for level in chosen]
            links += [(ids[r[0].lower()], level_ids[r[8]]) for r in batch if r[8]]
            conn.executemany(
                "INSERT OR IGNORE INTO user_levels (user_id, level_id, granted_at, granted_via)"
                " VALUES (?, ?, '2026-01-01 00:00:00', 'import')",
                links,
            )

        for row in reader:
            batch.append(row)
            if len(batch) == 900:  # SQLite's limit on variables in one IN (...)
                flush(batch)
                batch = []
        if batch:
            flush(batch)
        conn.commit()
        seconds = time.perf_counter() - t0
    assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == rows
    return seconds, memory.peak_kb


def measure_reading(path: Path) -> dict[str, float]:
    """Reading alone, best of three, in this process: a bare csv.reader; our reader told the
    encoding and separator; our reader detecting them (what an upload does)."""
    from huddle.pipeline.reading import ReadOptions, open_table

    data = path.read_bytes()

    def bare() -> int:
        text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
        return sum(1 for _ in csv.reader(text, delimiter=";")) - 1

    def told() -> int:
        table = open_table(data, ReadOptions(encoding="utf-8", delimiter=";"))
        return sum(1 for _ in table.rows())

    def detecting() -> int:
        return sum(1 for _ in open_table(data).rows())

    best = {}
    for name, read in (("bare", bare), ("told", told), ("detecting", detecting)):
        timings = []
        for _ in range(3):
            t0 = time.perf_counter()
            read()
            timings.append(time.perf_counter() - t0)
        best[name] = min(timings)
    return best


MEASURES = {"stage": measure_stage, "apply": measure_apply, "baseline": measure_baseline}


def run_child(mode: str, rows: int, path: Path) -> tuple[float, float]:
    """Run one measurement in a fresh process; (seconds, peak memory in MB)."""
    work = Path(tempfile.mkdtemp(prefix="huddle-import-bench-"))
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", mode, str(rows), str(path), str(work / "bench.db")],
        stdout=subprocess.PIPE,
        text=True,
    )
    output = proc.stdout.read()
    status = proc.wait()
    shutil.rmtree(work, ignore_errors=True)  # a million-row database is large
    if status != 0:
        raise SystemExit(f"{mode} at {rows} rows failed")
    seconds, peak_kb = output.strip().splitlines()[-1].split()
    return float(seconds), int(peak_kb) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument(
        "--repeat", type=int, default=1, help="run each measure N times; report the fastest"
    )
    parser.add_argument("--child", nargs=4, metavar=("MODE", "ROWS", "FILE", "DB"))
    args = parser.parse_args()
    if args.child:
        mode, rows, path, db_file = args.child
        seconds, peak_kb = MEASURES[mode](Path(path), Path(db_file), int(rows))
        print(seconds, peak_kb)
        return

    files = Path(tempfile.mkdtemp(prefix="huddle-import-files-"))
    print(f"{'rows':>10} {'measure':<28} {'seconds':>8} {'rows/s':>10} {'peak MB':>8}")
    try:
        for rows in (int(size) for size in args.sizes.split(",")):
            path = files / f"users-{rows}.csv"
            make_file(rows, path)
            results = {}
            for mode, label in (
                ("stage", "(a) check + preview page 1"),
                ("apply", "(b) import job"),
                ("baseline", "(c) sqlite3 baseline"),
            ):
                runs = [run_child(mode, rows, path) for _ in range(max(args.repeat, 1))]
                seconds, peak = min(runs)
                results[mode] = seconds
                print(f"{rows:>10,} {label:<28} {seconds:8.2f} {rows / seconds:10,.0f} {peak:8.0f}")
            print(f"{'':>10} {'(b)/(c)':<28} {results['apply'] / results['baseline']:8.2f}")
            reading = measure_reading(path)
            for name, label in (
                ("bare", "(r1) csv.reader alone"),
                ("told", "(r2) our reader, format told"),
                ("detecting", "(r3) our reader, detecting"),
            ):
                seconds = reading[name]
                print(f"{rows:>10,} {label:<28} {seconds:8.2f} {rows / seconds:10,.0f}")
            detection = reading["detecting"] / reading["told"]
            print(f"{'':>10} {'(r3)/(r2) detection costs':<28} {detection:8.2f}")
            print(f"{'':>10} {'(r3)/(r1)':<28} {reading['detecting'] / reading['bare']:8.2f}")
    finally:
        shutil.rmtree(files, ignore_errors=True)


if __name__ == "__main__":
    main()
