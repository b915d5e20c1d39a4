"""Checking every row of a file as one stream: read → the admin's fixes → validate.

A large file is checked in a helper process. Reading and validating need no database, so a
second core does them while the importing process plans and writes the rows it already has.
The helper sends its rows in chunks through a pipe; a full pipe makes it wait, so memory stays
flat however long the file is. A small file is checked in this process: starting a helper
would cost more than it saves.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import multiprocessing
import os
import pickle
import traceback
from collections.abc import Iterable, Iterator, Mapping

from .columns import USER_COLUMNS
from .reading import CsvTable, FileProblem, SourceRow
from .validating import CheckedRow, validate_row

HELPER_MIN_BYTES = 1 << 20  # about 10,000 rows
CHUNK_ROWS = 1000
PIPE_BYTES = 1 << 20
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)


def apply_fixes(rows: Iterable[SourceRow], fixes: Mapping[str, dict]) -> Iterator[SourceRow]:
    """The file's rows with the admin's corrections from the preview laid over them."""
    for row in rows:
        fix = fixes.get(str(row.line))
        if fix:
            row.values = {**row.values, **fix}
        yield row


def check_rows(
    table: CsvTable, fixes: Mapping[str, dict], known_levels: Mapping[str, str]
) -> Iterator[CheckedRow]:
    """Every row of ``table``, with ``fixes`` applied, checked, in file order. When the
    stream ends, ``table.blank_lines`` counts the blank lines of the whole file."""
    rows = (validate_row(row, known_levels) for row in apply_fixes(table.rows(), fixes))
    if table.size < HELPER_MIN_BYTES:
        return rows
    return _from_helper(table, rows)


def _from_helper(table: CsvTable, rows: Iterator[CheckedRow]) -> Iterator[CheckedRow]:
    # "fork": the helper starts with the open table as it is (the file is shared, not copied).
    # It closes whatever else the parent has open (database, Redis), only reads, validates
    # and writes to the pipe, and leaves without running the parent's exit hooks.
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    _widen(receiver)
    helper = context.Process(
        target=_send_rows, args=(table, rows, sender), name="huddle-check-rows", daemon=True
    )
    helper.start()
    sender.close()
    try:
        while True:
            try:
                kind, payload = pickle.loads(receiver.recv_bytes())
            except EOFError:
                raise RuntimeError("The process checking the file stopped unexpectedly.") from None
            if kind == "rows":
                for line, values, levels, problems, cells_json in payload:
                    user = dict(zip(USER_COLUMNS, values))  # noqa: B905 (sent in this order)
                    yield CheckedRow(line, user, levels, problems, {}, cells_json)
            elif kind == "end":
                table.blank_lines = payload
                return
            elif kind == "file_problem":
                raise FileProblem(*payload)
            else:
                raise RuntimeError(f"Checking the file failed:\n{payload}")
    finally:
        receiver.close()
        if helper.is_alive():  # the consumer stopped early
            helper.terminate()
        helper.join()


def _widen(pipe) -> None:
    """Let the pipe hold a few chunks (Linux allows 1 MB without privileges), so that the
    helper keeps checking while the importing process is busy writing."""
    with contextlib.suppress(OSError):  # the default 64 KB works too, with more waiting
        fcntl.fcntl(pipe.fileno(), F_SETPIPE_SZ, PIPE_BYTES)


def _send_rows(table: CsvTable, rows: Iterator[CheckedRow], sender) -> None:
    """In the helper: check the rows and send them as plain tuples, which cost far less to
    send and rebuild than the objects (the cells go as JSON, the form they are stored in)."""

    # Let go of everything the parent had open (database connections, the pipe's other end):
    # if the parent dies, its transaction must end with it, and our next write must fail
    # (no reader left) so that we end too.
    keep = sender.fileno()
    os.closerange(3, keep)
    os.closerange(keep + 1, os.sysconf("SC_OPEN_MAX"))

    def send(kind: str, payload) -> None:
        sender.send_bytes(pickle.dumps((kind, payload), pickle.HIGHEST_PROTOCOL))

    try:
        chunk = []
        for row in rows:
            cells = json.dumps(row.cells, ensure_ascii=False)
            chunk.append((row.line, tuple(row.user.values()), row.levels, row.problems, cells))
            if len(chunk) == CHUNK_ROWS:
                send("rows", chunk)
                chunk = []
        send("rows", chunk)
        send("end", table.blank_lines)
    except FileProblem as problem:
        send("file_problem", (problem.code, problem.message, problem.fix, problem.line))
    except Exception:
        send("error", traceback.format_exc())
    finally:
        sender.close()
