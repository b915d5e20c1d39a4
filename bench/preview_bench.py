"""The preview of a large upload, from the uploaded bytes to the preview's first page: CSV and
XLSX, next to its floor, reading and checking every row alone (nothing stored).

    (a) ours: the draft made, every row checked, planned and stored, page 1 read back
    (b) floor: the same file read and every row checked (validate_row), in one process

Each measurement runs in a fresh process on a fresh SQLite database; median of --repeat.

    .venv/bin/python bench/preview_bench.py [--rows 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from workbook_bench import as_csv, as_xlsx  # noqa: E402

MAKERS = {"csv": as_csv, "xlsx": as_xlsx}


def measure_ours(path: Path, rows: int) -> float:
    from flask_migrate import upgrade

    from huddle import create_app
    from huddle.extensions import db
    from huddle.imports.drafts import create_import
    from huddle.imports.preview import build_preview, preview_rows

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path.parent / 'bench.db'}"})
    with app.app_context():
        upgrade()
        data = path.read_bytes()
        t0 = time.perf_counter()
        run = create_import(path.name, data, admin=None)
        build_preview(run)
        db.session.commit()
        page, _ = preview_rows(run, "all", 1)
        seconds = time.perf_counter() - t0
        assert run.rows_total == rows and len(page) == 50, run.status
    return seconds


def measure_floor(path: Path, rows: int) -> float:
    from huddle.pipeline.reading import open_table
    from huddle.pipeline.validating import validate_row

    data = path.read_bytes()
    t0 = time.perf_counter()
    table = open_table(data)
    checked = sum(1 for row in table.rows() if validate_row(row, {}) is not None)
    seconds = time.perf_counter() - t0
    assert checked == rows
    return seconds


MEASURES = {"ours": measure_ours, "floor": measure_floor}


def run_child(mode: str, path: Path, rows: int) -> float:
    work = Path(tempfile.mkdtemp(prefix="huddle-preview-bench-"))
    copy = work / path.name
    copy.write_bytes(path.read_bytes())
    output = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(copy), str(rows)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "HUDDLE_INSTANCE_PATH": str(work)},
    ).stdout
    return float(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=3, metavar=("MODE", "FILE", "ROWS"))
    args = parser.parse_args()
    if args.child:
        mode, path, rows = args.child
        print(MEASURES[mode](Path(path), int(rows)))
        return
    files = Path(tempfile.mkdtemp(prefix="huddle-preview-files-"))
    print(f"{args.rows:,} rows, median of {args.repeat}, the measures interleaved")
    for kind, make in MAKERS.items():
        path = files / f"users.{kind}"
        path.write_bytes(make(args.rows))
        runs = {mode: [] for mode in MEASURES}
        for _ in range(args.repeat):
            for mode in MEASURES:
                runs[mode].append(run_child(mode, path, args.rows))
        ours, floor = (statistics.median(runs[mode]) for mode in ("ours", "floor"))
        print(f"  {kind:<5} (a) upload → first page   {ours:6.2f} s")
        print(
            f"  {kind:<5} (b) read + check alone     {floor:6.2f} s   (a)/(b) = {ours / floor:.2f}"
        )


if __name__ == "__main__":
    main()
