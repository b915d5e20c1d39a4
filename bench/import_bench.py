"""Import speed and memory: (a) check + preview, (b) the import job, (c) plain floors.

For each size it writes a realistic ;-separated file (10 % of the addresses already exist in
the database, two levels chosen for everyone) and measures, each in a fresh process on a fresh
database (SQLite, or with --database postgresql a new PostgreSQL database on DATABASE_URL's
server):

  (a) staging: read + validate + plan every row and store the preview, then page 1 of it
  (b) the import job's code (apply_import) writing everything in one transaction, until
      the import is done and shown; on SQLite (b2) adds what the job does next: indexing a
      large import's new users for search (search_index.catch_up)
  (c) floors with no framework doing the same upserts and level links (no validation, no
      preview rows, no mails owed): on SQLite csv + sqlite3 executemany; on PostgreSQL
      (c) psycopg executemany and (d) COPY into a temporary table + INSERT … SELECT

and prints seconds, rows/s and peak memory, and the ratio of (b) to the floor (for
PostgreSQL the COPY floor, the fastest). Peak memory is sampled while
the measured code runs, as the proportional set size (PSS) of the process and its helper
process together: the file the helper shares with its parent counts once, not twice.

    .venv/bin/python bench/import_bench.py [--sizes 1000,10000,100000,1000000] [--repeat 3]
        [--database sqlite|postgresql]   (PostgreSQL: DATABASE_URL names the server)
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import shutil
import sqlite3
import statistics
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


NOW = "2026-01-01 00:00:00"
# The floors' upsert: a new user is inserted, an existing one gets the file's values.
UPSERT_USERS = (
    "INSERT INTO users (email, first_name, infix, last_name, phone, organisation,"
    " job_title, language, is_admin, password_hash, created_at, updated_at)"
    " {source}"
    " ON CONFLICT (email) DO UPDATE SET first_name = excluded.first_name,"
    " infix = excluded.infix, last_name = excluded.last_name, phone = excluded.phone,"
    " organisation = excluded.organisation, job_title = excluded.job_title,"
    " language = excluded.language, updated_at = excluded.updated_at"
)


def _is_postgresql(url: str) -> bool:
    return url.startswith("postgresql")


def _connect(url: str):
    """A plain driver connection to the bench database, set up as the app sets up its own."""
    if _is_postgresql(url):
        import psycopg

        return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    # The same settings as the app's connections (huddle/extensions.py), foreign keys included:
    # the floor writes to the same tables, so it checks the same constraints.
    for pragma in (
        "foreign_keys=ON",
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "cache_size=-16384",
    ):
        conn.execute(f"PRAGMA {pragma}")
    return conn


def _app(url: str):
    from flask_migrate import upgrade

    from huddle import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
    return app


def _seed(app, url: str, rows: int) -> None:
    """The levels and the users that already exist (every tenth address of the file), written
    with the plain driver and a generator, so that seeding adds nothing to the peak memory."""
    with app.app_context():
        from huddle.extensions import db
        from huddle.models import Level

        db.session.add_all(Level(name=name) for name in (*LEVELS, "Trainers"))
        db.session.commit()
    mark = "%s" if _is_postgresql(url) else "?"
    conn = _connect(url)
    conn.cursor().executemany(
        "INSERT INTO users (email, first_name, infix, last_name, phone, organisation, job_title,"
        " language, is_admin, password_hash, created_at, updated_at)"
        f" VALUES ({mark}, 'Old', '', 'Name', '', '', '', 'nl', false, '', {mark}, {mark})",
        (
            (f"user{i}@example.org", "2025-01-01 00:00:00", "2025-01-01 00:00:00")
            for i in range(0, rows, int(1 / EXISTING_SHARE))
        ),
    )
    conn.commit()
    if _is_postgresql(url):
        conn.autocommit = True
        conn.execute("ANALYZE")  # as the statistics of a database in use would be
    conn.close()


def measure_stage(path: Path, url: str, rows: int) -> float:
    from huddle.extensions import db
    from huddle.imports.drafts import create_import
    from huddle.imports.preview import build_preview, preview_rows

    app = _app(url)
    _seed(app, url, rows)
    data = path.read_bytes()
    with app.app_context(), PeakMemory() as memory:
        t0 = time.perf_counter()
        # The check itself, as the web request or (for a large file) the worker runs it.
        run = create_import(path.name, data, admin=None)
        build_preview(run)
        db.session.commit()
        page, _ = preview_rows(run, "all", 1)
        seconds = time.perf_counter() - t0
        assert run.rows_total == rows and len(page) == min(50, rows), run.status
        db.session.remove()
    return seconds, memory.peak_kb


def measure_apply_indexed(path: Path, url: str, rows: int) -> float:
    """(b) and then the new users indexed for search, as the job does after the commit."""
    return measure_apply(path, url, rows, indexed=True)


def measure_apply(path: Path, url: str, rows: int, *, indexed: bool = False) -> float:
    from sqlalchemy import func, select

    from huddle import search_index
    from huddle.extensions import db
    from huddle.imports.applying import apply_import
    from huddle.models import ImportFile, ImportRun, Level, User

    app = _app(url)
    _seed(app, url, rows)
    # The run is made in a child process, as the upload or the command made it before the
    # job: the measured process holds only what a worker running the job holds.
    child = os.fork()
    if child == 0:
        with app.app_context():
            db.engine.dispose(close=False)  # the parent's connections stay the parent's
            level_ids = list(db.session.scalars(select(Level.id).where(Level.name.in_(LEVELS))))
            data = path.read_bytes()
            db.session.add(
                ImportRun(
                    filename=path.name,
                    file=ImportFile(data=data),
                    file_size=len(data),
                    source="cli",
                    level_ids=level_ids,
                    fixes={},
                    ignored_columns=[],
                    notify_new=False,  # like the floors: no mails owed
                    notify_existing=False,
                )
            )
            db.session.commit()
        os._exit(0)
    assert os.waitpid(child, 0)[1] == 0
    with app.app_context():
        db.engine.dispose()
        run = db.session.scalar(select(ImportRun))
        with PeakMemory() as memory:
            t0 = time.perf_counter()
            run = apply_import(run)
            if indexed:
                search_index.catch_up()
            seconds = time.perf_counter() - t0
        assert run.status == "done", run.error
        assert db.session.scalar(select(func.count()).select_from(User)) == rows
    return seconds, memory.peak_kb


def _file_rows(path: Path):
    handle = path.open(encoding="utf-8-sig", newline="")
    reader = csv.reader(handle, delimiter=";")
    next(reader)
    return reader


def _batches(rows, size: int):
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _floor(
    path: Path, url: str, rows: int, write_batch, batch_size: int = 900
) -> tuple[float, int]:
    """Time ``write_batch(conn, batch, level_ids, chosen)`` over the file in batches (900:
    SQLite's limit on variables in one IN (...)), in one transaction."""
    conn = _connect(url)
    with PeakMemory() as memory:
        t0 = time.perf_counter()
        level_ids = dict(conn.execute("SELECT name, id FROM levels").fetchall())
        chosen = [level_ids[name] for name in LEVELS]
        for batch in _batches(_file_rows(path), batch_size):
            write_batch(conn, batch, level_ids, chosen)
        conn.commit()
        seconds = time.perf_counter() - t0
    assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == rows
    conn.close()
    return seconds, memory.peak_kb


def _links(batch, ids, level_ids, chosen):
    links = [(ids[r[0].lower()], level) for r in batch for level in chosen]
    return links + [(ids[r[0].lower()], level_ids[r[8]]) for r in batch if r[8]]


def _write_executemany(conn, batch, level_ids, chosen) -> None:
    """The plainest way on either database: executemany, then the ids, then the links."""
    mark = "?" if isinstance(conn, sqlite3.Connection) else "%s"
    cursor = conn.cursor()
    cursor.executemany(
        UPSERT_USERS.format(source=f"VALUES ({', '.join([mark] * 8)}, false, '', {mark}, {mark})"),
        [(r[0].lower(), *r[1:8], NOW, NOW) for r in batch],
    )
    emails = [r[0].lower() for r in batch]
    if mark == "?":
        cursor.execute(
            f"SELECT email, id FROM users WHERE email IN ({','.join('?' * len(batch))})", emails
        )
    else:
        cursor.execute("SELECT email, id FROM users WHERE email = ANY(%s)", (emails,))
    ids = dict(cursor.fetchall())
    cursor.executemany(
        "INSERT INTO user_levels (user_id, level_id, granted_at, granted_via)"
        f" VALUES ({mark}, {mark}, '{NOW}', 'import') ON CONFLICT DO NOTHING",
        _links(batch, ids, level_ids, chosen),
    )


def _write_copy(conn, batch, level_ids, chosen) -> None:
    """PostgreSQL's fastest way: COPY the batch into a temporary table, then one INSERT …
    SELECT for the users and one for their levels."""
    cursor = conn.cursor()
    cursor.execute(
        "CREATE TEMPORARY TABLE IF NOT EXISTS incoming (email text, first_name text,"
        " infix text, last_name text, phone text, organisation text, job_title text,"
        " language text, level text) ON COMMIT DROP"
    )
    cursor.execute("TRUNCATE incoming")
    with cursor.copy("COPY incoming FROM STDIN") as copy:
        for r in batch:
            copy.write_row((r[0].lower(), *r[1:9]))
    cursor.execute(
        UPSERT_USERS.format(
            source="SELECT email, first_name, infix, last_name, phone, organisation,"
            f" job_title, language, false, '', '{NOW}', '{NOW}' FROM incoming"
        )
    )
    cursor.execute(
        "INSERT INTO user_levels (user_id, level_id, granted_at, granted_via)"
        f" SELECT users.id, levels.id, '{NOW}', 'import' FROM incoming"
        " JOIN users ON users.email = incoming.email"
        " JOIN levels ON levels.id = ANY(%s) OR levels.name = incoming.level"
        " ON CONFLICT DO NOTHING",
        (chosen,),
    )


def measure_executemany(path: Path, url: str, rows: int) -> float:
    _seed(_app(url), url, rows)
    return _floor(path, url, rows, _write_executemany)


def measure_copy(path: Path, url: str, rows: int) -> float:
    _seed(_app(url), url, rows)
    return _floor(path, url, rows, _write_copy)


def measure_copy_whole(path: Path, url: str, rows: int) -> float:
    _seed(_app(url), url, rows)
    return _floor(path, url, rows, _write_copy, batch_size=rows)


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


MEASURES = {
    "stage": measure_stage,
    "apply": measure_apply,
    "apply_indexed": measure_apply_indexed,
    "baseline": measure_executemany,
    "copy": measure_copy,
    "copy_whole": measure_copy_whole,
}
POSTGRESQL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def _fresh_database(database: str, work: Path) -> str:
    """The URL of an empty database for one measurement: a file in ``work`` for SQLite; for
    PostgreSQL a database made anew on DATABASE_URL's server."""
    if database == "sqlite":
        return f"sqlite:///{work / 'bench.db'}"
    import psycopg

    server = os.environ.get("DATABASE_URL", POSTGRESQL_SERVER)
    server = server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS huddle_import_bench WITH (FORCE)")
        conn.execute("CREATE DATABASE huddle_import_bench")
    base = server.rsplit("/", 1)[0]
    return f"postgresql+psycopg://{base.removeprefix('postgresql://')}/huddle_import_bench"


def run_child(mode: str, rows: int, path: Path, database: str) -> tuple[float, float]:
    """Run one measurement in a fresh process on a fresh database; (seconds, peak MB)."""
    work = Path(tempfile.mkdtemp(prefix="huddle-import-bench-"))
    url = _fresh_database(database, work)
    # The disk written to by the measure before (a million rows: a gigabyte) settles first,
    # rather than during this one.
    os.sync()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", mode, str(rows), str(path), url],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "HUDDLE_INSTANCE_PATH": str(work)},
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
        "--repeat", type=int, default=1, help="run each measure N times; report the median"
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--child", nargs=4, metavar=("MODE", "ROWS", "FILE", "URL"))
    args = parser.parse_args()
    if args.child:
        mode, rows, path, url = args.child
        seconds, peak_kb = MEASURES[mode](Path(path), url, int(rows))
        print(seconds, peak_kb)
        return

    measures = [
        ("stage", "(a) check + preview page 1"),
        ("apply", "(b) import job"),
        ("baseline", f"(c) {'sqlite3' if args.database == 'sqlite' else 'psycopg'} executemany"),
    ]
    if args.database == "sqlite":
        # The import is done and shown at (b); its new users are then indexed for search
        # (search_index.catch_up), found more slowly until they are.
        measures.insert(2, ("apply_indexed", "(b2) (b), then indexed"))
    if args.database == "postgresql":
        measures.append(("copy", "(d) COPY, batches of 900"))
        measures.append(("copy_whole", "(e) COPY, the whole file"))
    floor = "copy_whole" if args.database == "postgresql" else "baseline"
    files = Path(tempfile.mkdtemp(prefix="huddle-import-files-"))
    print(f"{args.database}, median of {max(args.repeat, 1)}, the measures interleaved")
    print(f"{'rows':>10} {'measure':<28} {'seconds':>8} {'rows/s':>10} {'peak MB':>8}")
    try:
        for rows in (int(size) for size in args.sizes.split(",")):
            path = files / f"users-{rows}.csv"
            make_file(rows, path)
            runs = {mode: [] for mode, _ in measures}
            # Interleaved, so that a noisy neighbour slows every measure alike.
            for _ in range(max(args.repeat, 1)):
                for mode, _label in measures:
                    runs[mode].append(run_child(mode, rows, path, args.database))
            results = {}
            for mode, label in measures:
                seconds, peak = (
                    statistics.median(s for s, _ in runs[mode]),
                    max(p for _, p in runs[mode]),
                )
                results[mode] = seconds
                print(f"{rows:>10,} {label:<28} {seconds:8.2f} {rows / seconds:10,.0f} {peak:8.0f}")
            ratio = results["apply"] / results[floor]
            label = "(b)/(e)" if floor == "copy_whole" else "(b)/(c)"
            print(f"{'':>10} {label:<28} {ratio:8.2f}")
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
