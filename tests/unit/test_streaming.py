"""The checked-row stream gives the same rows whether a helper process checks them or not."""

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from huddle.pipeline import streaming as checking
from huddle.pipeline.problems import FileProblem
from huddle.pipeline.reading import open_table

LEVELS = {"basis": "Basis", "trainers": "Trainers"}
HEADER = "email;first_name;infix;last_name;phone;organisation;job_title;language;levels\r\n"


def _file(rows: int) -> bytes:
    lines = [HEADER]
    for i in range(rows):
        if i % 500 == 7:
            lines.append(";;;\r\n")  # a blank row
        email = "bad address" if i in (3, 4) else f"user{i}@example.org"
        lines.append(f"{email};Zoë;van der;Berg {i};+31 6 1234;;Docent;NL;trainers\r\n")
    return "".join(lines).encode("utf-8")


def _check(data: bytes, fixes: dict, *, helper: bool, monkeypatch) -> tuple[list, int]:
    monkeypatch.setattr(checking, "HELPER_MIN_BYTES", 0 if helper else 1 << 40)
    table = open_table(data)
    rows = [
        (row.line, row.user, row.levels, row.problems, row.cells_as_json())
        for row in checking.check_rows(table, fixes, LEVELS)
    ]
    return rows, table.blank_lines


def test_the_helper_process_gives_the_same_rows_and_blank_lines(monkeypatch):
    data = _file(2500)  # a few chunks through the pipe
    fixes = {"5": {"email": "fixed@example.org"}}
    here = _check(data, fixes, helper=False, monkeypatch=monkeypatch)
    helped = _check(data, fixes, helper=True, monkeypatch=monkeypatch)
    assert helped == here
    rows, blank_lines = helped
    assert len(rows) == 2500 and blank_lines == 5
    by_line = {line: (user, levels, problems) for line, user, levels, problems, _ in rows}
    assert by_line[5][0]["email"] == "fixed@example.org" and not by_line[5][2]  # fixed
    assert by_line[6][0]["email"] == "bad address" and by_line[6][2][0].column == "email"
    assert by_line[2][0]["language"] == "nl" and by_line[2][1] == ("Trainers",)
    assert '"first_name": "Zoë"' in rows[0][4]


def test_a_file_problem_in_the_helper_reaches_the_caller(monkeypatch):
    broken = _file(50) + b'late@example.org;"never closed;x;y\r\n' + b"z" * 70_000
    with pytest.raises(FileProblem) as problem:
        _check(broken, {}, helper=True, monkeypatch=monkeypatch)
    # 50 users and one blank row after the header: the broken record starts on line 53.
    assert problem.value.code == "quote_not_closed" and problem.value.line == 53


def test_stopping_early_stops_the_helper(monkeypatch):
    monkeypatch.setattr(checking, "HELPER_MIN_BYTES", 0)
    rows = checking.check_rows(open_table(_file(20_000)), {}, LEVELS)
    assert next(rows).line == 2
    rows.close()
    assert not [p for p in multiprocessing.active_children() if p.name == "huddle-check-rows"]


# A parent whose helper is busy with one long batch (like a wide sheet read whole) says its
# helper's pid and is killed, as gunicorn kills a web worker at its timeout.
_PARENT_THAT_DIES = """
import multiprocessing, os, signal, sys, threading, time
sys.path.insert(0, {tests!r})
from huddle.pipeline import streaming
from huddle.pipeline.reading import open_table
from unit.test_streaming import LEVELS, _file

def slow(batch):
    time.sleep(60)
    return len(batch)

def die():
    print(*(child.pid for child in multiprocessing.active_children()), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)

threading.Timer(1.0, die).start()
next(iter(streaming.check_in_batches(open_table(_file(5000)), {{}}, LEVELS, slow)))
"""


def test_the_helper_dies_with_its_parent():
    """The helper of a parent that is killed ends at once, not at its next batch."""
    tests = str(Path(__file__).resolve().parent.parent)
    parent = subprocess.run(
        [sys.executable, "-c", _PARENT_THAT_DIES.format(tests=tests)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    helper = int(parent.stdout.split()[0])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(helper, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(helper, signal.SIGKILL)
    raise AssertionError("the helper outlived its parent")
