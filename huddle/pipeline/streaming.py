"""Checking every row of a file as one stream: read → the admin's fixes → validate.

A large file is checked in a helper process. Reading and validating need no database, so a
second core does them while the importing process writes the rows it already has. The rows go
in batches, and the caller may hand over work to do on each batch where it is checked (the
importing process plans its writes there too: ``check_in_batches``), so that what crosses the
pipe is what the other side needs. The helper sends batches through a pipe; a full pipe makes
it wait, so memory stays flat however long the file is. A small file is checked in this
process: starting a helper would cost more than it saves.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import gc
import multiprocessing
import os
import pickle
import signal
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import partial
from typing import TypeVar

from .columns import USER_COLUMNS
from .problems import FileProblem
from .reading import CsvTable, SourceRow
from .validating import CheckedRow, validate_row

HELPER_MIN_BYTES = 1 << 18  # about 3,000 rows: from there on a helper saves time
BATCH_ROWS = 1000
PIPE_BYTES = 1 << 20
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)

Result = TypeVar("Result")


def apply_fixes(rows: Iterable[SourceRow], fixes: Mapping[str, dict]) -> Iterator[SourceRow]:
    """The file's rows with the admin's corrections from the preview laid over them."""
    for row in rows:
        fix = fixes.get(str(row.line))
        if fix:
            row.values = {**row.values, **fix}
        yield row


def _checked(table: CsvTable, fixes, known_levels, smtputf8: bool) -> Iterator[CheckedRow]:
    rows = apply_fixes(table.rows(), fixes)
    return (validate_row(row, known_levels, smtputf8=smtputf8) for row in rows)


def in_batches(items: Iterable, size: int) -> Iterator[list]:
    """``items`` in lists of ``size`` (the last maybe shorter)."""
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def check_rows(
    table: CsvTable,
    fixes: Mapping[str, dict],
    known_levels: Mapping[str, str],
    *,
    smtputf8: bool = True,
) -> Iterator[CheckedRow]:
    """Every row of ``table``, with ``fixes`` applied, checked, in file order (``smtputf8``:
    see ``validate_row``). When the stream ends, ``table.blank_lines`` counts the blank lines
    of the whole file."""
    if table.size < HELPER_MIN_BYTES:
        return _checked(table, fixes, known_levels, smtputf8)
    batches = check_in_batches(table, fixes, known_levels, as_tuples, smtputf8=smtputf8)
    return (from_tuple(row) for batch in batches for row in batch)


def as_tuples(rows: list[CheckedRow], *, cells_as_json: bool = True) -> list[tuple]:
    """The rows as plain tuples, to send to another process (``from_tuple`` rebuilds them).
    Plain tuples cost far less to send and rebuild than the objects. The cells go as JSON, the
    form they are stored in; without ``cells_as_json`` as they are, for the receiving side to
    make the JSON when it has more time than this one."""
    return [
        (
            row.line,
            tuple(row.user.values()),
            row.levels,
            row.problems,
            row.cells_as_json() if cells_as_json else row.cells,
        )
        for row in rows
    ]


def from_tuple(row: tuple) -> CheckedRow:
    """The row ``as_tuples`` made of it, rebuilt."""
    line, values, levels, problems, cells = row
    user = dict(zip(USER_COLUMNS, values))  # noqa: B905 (sent in this order)
    if isinstance(cells, str):
        return CheckedRow(line, user, levels, problems, {}, cells)
    return CheckedRow(line, user, levels, problems, cells)


def check_in_batches(
    table: CsvTable,
    fixes: Mapping[str, dict],
    known_levels: Mapping[str, str],
    work: Callable[[list[CheckedRow]], Result],
    *,
    smtputf8: bool = True,
) -> Iterator[Result]:
    """``work`` done on each batch of checked rows (``BATCH_ROWS`` of them), its results in
    file order. A large file is checked, and ``work`` done, in a helper process: there
    ``work`` must not use what the parent had open (a database connection), and its results
    must pickle. When the stream ends, ``table.blank_lines`` is set."""
    checked = partial(_checked, table, fixes, known_levels, smtputf8)
    if table.size < HELPER_MIN_BYTES:
        return map(work, in_batches(checked(), BATCH_ROWS))
    return _from_helper(table, checked, work)


def _from_helper(table: CsvTable, checked: Callable[[], Iterator[CheckedRow]], work) -> Iterator:
    # "fork": the helper starts with the open table as it is (the file is shared, not copied).
    # It closes whatever else the parent has open (database, Redis), only reads, validates,
    # does the work and writes to the pipe, and leaves without running the parent's exit hooks.
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    _widen(receiver)
    helper = context.Process(
        target=_send_batches,
        args=(table, checked, work, sender, os.getpid()),
        name="huddle-check-rows",
        daemon=True,
    )
    helper.start()
    sender.close()
    try:
        while True:
            try:
                kind, payload = pickle.loads(receiver.recv_bytes())
            except EOFError:
                raise RuntimeError("The process checking the file stopped unexpectedly.") from None
            if kind == "batch":
                yield payload
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
    """Let the pipe hold a few batches (Linux allows 1 MB without privileges), so that the
    helper keeps checking while the importing process is busy writing."""
    with contextlib.suppress(OSError):  # the default 64 KB works too, with more waiting
        fcntl.fcntl(pipe.fileno(), F_SETPIPE_SZ, PIPE_BYTES)


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _end_with_parent(parent: int) -> None:
    """Let the kernel kill this helper the moment its parent dies (Linux): a failed write to
    the pipe would end it too, but only at its next batch, which for a sheet read whole can
    be a minute later, a minute of a core spent for no one."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before that was set
        os._exit(1)


def _send_batches(table: CsvTable, checked, work, sender, parent: int) -> None:
    """In the helper: check the rows, do the work on each batch and send what it returns."""

    # Let go of everything the parent had open (database connections, the pipe's other end):
    # if the parent dies, its transaction must end with it, and our next write must fail
    # (no reader left) so that we end too.
    _end_with_parent(parent)
    keep = sender.fileno()
    os.closerange(3, keep)
    os.closerange(keep + 1, os.sysconf("SC_OPEN_MAX"))
    # What the parent had is never garbage here: the collector need not look through it again
    # and again (and touching it would copy the parent's memory page by page).
    gc.freeze()

    def send(kind: str, payload) -> None:
        sender.send_bytes(pickle.dumps((kind, payload), pickle.HIGHEST_PROTOCOL))

    try:
        for batch in in_batches(checked(), BATCH_ROWS):
            send("batch", work(batch))
        send("end", table.blank_lines)
    except FileProblem as problem:
        send("file_problem", (problem.code, problem.message, problem.fix, problem.line))
    except Exception:
        send("error", traceback.format_exc())
    finally:
        sender.close()
