"""Export speed and memory, next to a plain sqlite3 + csv.writer baseline.

For each size it fills a fresh SQLite database with N users who have 3 levels each, then
measures, each in a fresh process:

  (a) CSV, the command's code (write_export) writing the file
  (b) CSV, the export job (run_export): the file written, then kept in the database
  (c) XLSX, the export job
  (d) a baseline with no framework: one sqlite3 query (levels by group_concat) into
      csv.writer, without the formula guard

and prints seconds, rows/s and peak memory (PSS, sampled while the code runs), and (a)/(d).

    .venv/bin/python bench/export_bench.py [--sizes 10000,100000,1000000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import csv
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

LEVELS = ("Basis", "Verdieping", "Trainers")


def _app(db_file: Path):
    os.environ["HUDDLE_INSTANCE_PATH"] = str(db_file.parent)
    from huddle import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_file}"})


def make_database(rows: int, db_file: Path) -> None:
    """A migrated database with ``rows`` users, each with all three levels."""
    from flask_migrate import upgrade

    from huddle.demo import FIRST_NAMES, INFIXES, LAST_NAMES, ORGANISATIONS

    app = _app(db_file)
    with app.app_context():
        upgrade()
    conn = sqlite3.connect(db_file)
    rng = random.Random(rows)
    stamp = "2026-01-01 00:00:00.000000"
    conn.executemany(
        "INSERT INTO levels (name, description, created_at) VALUES (?, '', ?)",
        [(name, stamp) for name in LEVELS],
    )
    conn.executemany(
        "INSERT INTO users (email, first_name, infix, last_name, phone, organisation, job_title,"
        " language, is_admin, password_hash, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, 'Docent', 'nl', 0, '', ?, ?)",
        (
            (
                f"user{i}@example.org",
                rng.choice(FIRST_NAMES),
                rng.choice(INFIXES),
                rng.choice(LAST_NAMES),
                f"+31 6 {rng.randint(10000000, 99999999)}",
                rng.choice(ORGANISATIONS),
                stamp,
                stamp,
            )
            for i in range(rows)
        ),
    )
    conn.execute(
        "INSERT INTO user_levels (user_id, level_id, granted_at, granted_via)"
        " SELECT users.id, levels.id, ?, 'import' FROM users CROSS JOIN levels",
        (stamp,),
    )
    conn.commit()
    conn.close()


def measure_command(db_file: Path, out: Path) -> tuple[float, int, int]:
    from huddle.exports.service import write_export

    app = _app(db_file)
    with app.app_context(), PeakMemory() as memory, out.open("wb") as handle:
        t0 = time.perf_counter()
        count = write_export({"levels": []}, "csv", handle)
        seconds = time.perf_counter() - t0
    return seconds, count, memory.peak_kb


def _measure_job(db_file: Path, fmt: str) -> tuple[float, int, int]:
    from huddle.exports.service import create_export, run_export
    from huddle.extensions import db
    from huddle.models import User

    app = _app(db_file)
    with app.app_context():
        admin = User(email="bench@example.org", first_name="B", last_name="B", is_admin=True)
        db.session.add(admin)
        db.session.commit()
        export = create_export(admin, {"levels": list(LEVELS)}, fmt)
        with PeakMemory() as memory:
            t0 = time.perf_counter()
            export = run_export(export)
            seconds = time.perf_counter() - t0
        assert export.status == "done", export.error
        return seconds, export.user_count, memory.peak_kb


def measure_job_csv(db_file: Path, out: Path) -> tuple[float, int, int]:
    return _measure_job(db_file, "csv")


def measure_job_xlsx(db_file: Path, out: Path) -> tuple[float, int, int]:
    return _measure_job(db_file, "xlsx")


def measure_baseline(db_file: Path, out: Path) -> tuple[float, int, int]:
    conn = sqlite3.connect(db_file)
    with PeakMemory() as memory, out.open("w", encoding="utf-8-sig", newline="") as handle:
        t0 = time.perf_counter()
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(
            ["email", "first_name", "infix", "last_name", "phone", "organisation", "job_title"]
            + ["language", "levels"]
        )
        cursor = conn.execute(
            "SELECT u.email, u.first_name, u.infix, u.last_name, u.phone, u.organisation,"
            " u.job_title, u.language, group_concat(l.name, '|')"
            " FROM users u LEFT JOIN user_levels ul ON ul.user_id = u.id"
            " LEFT JOIN levels l ON l.id = ul.level_id GROUP BY u.id ORDER BY u.id"
        )
        writer.writerows(cursor)
        seconds = time.perf_counter() - t0
    count = conn.execute("SELECT count(*) FROM users").fetchone()[0]
    return seconds, count, memory.peak_kb


MEASURES = {
    "command": ("(a) CSV, users export", measure_command),
    "job_csv": ("(b) CSV, export job", measure_job_csv),
    "job_xlsx": ("(c) XLSX, export job", measure_job_xlsx),
    "baseline": ("(d) sqlite3 + csv baseline", measure_baseline),
}


def run_child(mode: str, template_db: Path) -> tuple[float, float]:
    """One measurement in a fresh process on a copy of the database; (seconds, peak MB)."""
    work = Path(tempfile.mkdtemp(prefix="huddle-export-bench-"))
    try:
        db_file = work / "bench.db"
        shutil.copy(template_db, db_file)
        output = subprocess.run(
            [sys.executable, __file__, "--child", mode, str(db_file), str(work / "out")],
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        ).stdout
    finally:
        shutil.rmtree(work, ignore_errors=True)
    seconds, _count, peak_kb = output.split()
    return float(seconds), int(peak_kb) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=1, help="report the fastest of N runs")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "DB", "OUT"))
    args = parser.parse_args()
    if args.child:
        mode, db_file, out = args.child
        seconds, count, peak_kb = MEASURES[mode][1](Path(db_file), Path(out))
        print(seconds, count, peak_kb)
        return

    print(f"{'users':>10} {'measure':<28} {'seconds':>8} {'rows/s':>10} {'peak MB':>8}")
    for rows in (int(size) for size in args.sizes.split(",")):
        work = Path(tempfile.mkdtemp(prefix="huddle-export-db-"))
        try:
            template_db = work / "template.db"
            make_database(rows, template_db)
            results = {}
            for mode, (label, _) in MEASURES.items():
                runs = [run_child(mode, template_db) for _ in range(max(args.repeat, 1))]
                seconds, peak = min(runs)
                results[mode] = seconds
                print(f"{rows:>10,} {label:<28} {seconds:8.2f} {rows / seconds:10,.0f} {peak:8.0f}")
            ratio = results["command"] / results["baseline"]
            print(f"{'':>10} {'(a)/(d)':<28} {ratio:8.2f}")
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
