"""An import's rows batch by batch: checked in order, planned, and written where the
transaction is.

Checking and planning a row is Python work; writing it is the database's. For a large file
both cores work: a helper process checks the rows (``pipeline.streaming``) and sorts each batch
(``BatchChecker``), while the importing process writes the batches before. Who plans a batch
(``plan_batch``: tuples ready for executemany, ``BatchWrites``) depends on who has time: an
import writes users, levels and mails, so its helper plans too and sends only what to write;
a preview on SQLite writes one row per line, so its helper sends the checked rows and the
importing process plans them. A small file does all of it in one process.

The helper has no database (SQLite must not be used across a fork), so every valid row is
planned as a new user and kept along (``candidates``). The importing process looks their
addresses up, in its own transaction, and plans again the few that exist
(``settle_existing``). Likewise for addresses used twice: ``SeenAddresses`` knows the few rows
that might repeat an earlier address; they are left unplanned (``maybe_repeated``) and the
importing process settles them against the rows it stored (``settle_repeated``).
"""

from __future__ import annotations

import gc
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache, partial
from operator import itemgetter

from flask import current_app
from sqlalchemy import select

from ..bulk import db_value, insert_many, insert_pairs, insert_with_ids, update_many
from ..extensions import db
from ..models import (
    GrantSource,
    ImportMail,
    ImportRow,
    Level,
    MailKind,
    MailStatus,
    User,
    UserLevel,
    utcnow,
)
from ..pipeline.columns import TEMPLATE_COLUMNS, USER_COLUMNS
from ..pipeline.duplicates import SeenAddresses, mark_duplicates
from ..pipeline.planning import RowAction, RowPlan, plan_row
from ..pipeline.reading import CsvTable
from ..pipeline.streaming import as_tuples, check_in_batches, from_tuple
from ..pipeline.validating import CheckedRow
from .created import write_block
from .lookups import EarlierLines, known_levels, load_existing

# The tuples written here are plain tuples, for speed (a named tuple costs several times as
# much to make and to send between processes); their layouts are named by these columns, and
# the positions read back by the constants below them.
IMPORT_ROW_COLUMNS = (
    "import_id",
    "line",
    "email",
    "values",
    "edited",
    "action",
    "problems",
    "changes",
    "gains_levels",
)
USER_INSERT_COLUMNS = (*USER_COLUMNS, "is_admin", "password_hash", "created_at", "updated_at")
MAIL_COLUMNS = ("import_id", "user_id", "kind", "status", "attempts", "last_error", "levels_gained")
GRANT_COLUMNS = ("user_id", "level_id", "granted_at", "granted_via", "granted_by_id")
# A valid row planned as a new user, as it crosses from the helper: (line, values in
# USER_COLUMNS order, level names, cells as JSON).
CANDIDATE_FIELDS = ("line", "values", "levels", "cells")
LINE_OF_IMPORT_ROW = IMPORT_ROW_COLUMNS.index("line")
EMAIL_OF_USER = USER_COLUMNS.index("email")  # in a candidate's values and a new user's tuple
LANGUAGE_OF_USER = USER_COLUMNS.index("language")
user_values = itemgetter(*USER_COLUMNS)  # a user dict → its values, in USER_COLUMNS order
NO_CELLS = "{}"  # the cells of a row an import's outcome does not keep


@dataclass(frozen=True)
class Setting:
    """What every batch of one run shares. Values are in the database driver's form."""

    import_id: int
    chosen: tuple[str, ...]  # the levels picked for everyone
    level_ids: dict[str, int]  # every level's id, by name
    fixes: dict  # the admin's corrections from the preview, by line
    outcome: bool  # True: import (users, levels, mails, outcome rows); False: the preview
    now: object = None
    booleans: tuple = (False, True)
    notify_new: bool = False
    notify_existing: bool = False
    collect_names: bool = False  # collect names with accents (the encoding is uncertain)
    smtputf8: bool = True  # addresses like müller@… can be mailed (MAIL_SMTPUTF8)
    mail_language: str = ""  # for new users without a language in the file

    @classmethod
    def for_run(cls, run, chosen: Iterable[str], *, outcome: bool, **more) -> Setting:
        levels = select(Level.name, Level.id)
        if outcome:
            # Levels are granted by id, joined in SQL: none may go while the import runs. (On
            # PostgreSQL deleting one waits for the import to end; SQLite's single writer
            # cannot delete one meanwhile anyway.)
            levels = levels.with_for_update(read=True)
        return cls(
            import_id=run.id,
            chosen=tuple(chosen),
            level_ids=dict(db.session.execute(levels).all()),
            fixes=dict(run.fixes),
            outcome=outcome,
            now=db_value(User.created_at, utcnow()),
            booleans=(db_value(ImportRow.edited, False), db_value(ImportRow.edited, True)),
            notify_new=run.notify_new,
            notify_existing=run.notify_existing,
            smtputf8=current_app.config["MAIL_SMTPUTF8"],
            # Stored on new users only when chosen (the Mails step, --mail-language): a file
            # imported as it is (an export) stores what it holds.
            mail_language=run.mail_language if outcome else "",
            **more,
        )


@dataclass(slots=True)
class BatchWrites:
    """What one batch of rows writes, ready for executemany."""

    lines: int = 0  # rows of the file this batch covers
    new_users: list[tuple] = field(default_factory=list)  # in USER_INSERT_COLUMNS order
    # The columns that change → (their new values..., updated_at, user id) per user.
    field_updates: dict[tuple[str, ...], list[tuple]] = field(
        default_factory=lambda: defaultdict(list)
    )
    grants: dict[tuple[int, ...], list[str]] = field(
        default_factory=lambda: defaultdict(list)
    )  # level ids → the addresses of the users who gain them
    known_ids: dict[str, int] = field(default_factory=dict)  # existing users' ids, by address
    import_rows: list[tuple] = field(default_factory=list)  # in IMPORT_ROW_COLUMNS order
    welcome: list[str] = field(default_factory=list)  # addresses of new users to welcome
    update_mails: list[tuple] = field(default_factory=list)  # in MAIL_COLUMNS order
    # The valid rows planned as new users (some may exist), in CANDIDATE_FIELDS order.
    candidates: list[tuple] = field(default_factory=list)
    # Rows whose address may be on an earlier line, unplanned (``streaming.as_tuples``).
    maybe_repeated: list[tuple] = field(default_factory=list)
    accented_names: list[str] = field(default_factory=list)
    # An import's rows that create a user, uncorrected: (line, address, levels gained). Kept
    # as a block (``created.write_block``), not as ImportRows.
    created: list[tuple] = field(default_factory=list)
    # Columns the preview shows: those first found filled in this batch (see BatchChecker).
    filled: list[str] = field(default_factory=list)


@lru_cache(maxsize=256)
def _levels_only_changes(levels: tuple[str, ...]) -> str:
    return json.dumps({"fields": {}, "levels": list(levels)}, ensure_ascii=False)


def row_tuple(plan: RowPlan, setting: Setting) -> tuple:
    """The ImportRow of a plan, in IMPORT_ROW_COLUMNS order with its JSON serialised. The
    preview keeps every row's cells; an import's outcome only those of skipped rows (for the
    problem-rows download)."""
    row, action, booleans = plan.row, plan.action, setting.booleans
    if plan.field_changes:
        changes = json.dumps(plan.changes, ensure_ascii=False)
    else:
        changes = _levels_only_changes(plan.gained_levels)
    problems = (
        json.dumps([[p.column, p.message] for p in plan.problems], ensure_ascii=False)
        if plan.problems
        else "[]"
    )
    keep_cells = not setting.outcome or action is RowAction.SKIP
    return (
        setting.import_id,
        row.line,
        row.user["email"].lower(),
        row.cells_as_json() if keep_cells else NO_CELLS,
        booleans[_corrected(row.line, setting)],
        action.value,
        problems,
        changes,
        booleans[bool(plan.gained_levels)],
    )


def _corrected(line: int, setting: Setting) -> bool:
    """Whether the admin corrected a cell of ``line`` in the preview."""
    return bool(setting.fixes) and str(line) in setting.fixes


def _new_user(user: dict[str, str], setting: Setting) -> tuple:
    """A new user's values in USER_COLUMNS order; without a language in the file, the one
    the import's mails go out in (so that their later mails follow it too)."""
    values = user_values(user)
    if values[LANGUAGE_OF_USER] or not setting.mail_language:
        return values
    return (*values[:LANGUAGE_OF_USER], setting.mail_language, *values[LANGUAGE_OF_USER + 1 :])


def prepare(plans: list[RowPlan], setting: Setting, writes: BatchWrites) -> BatchWrites:
    """Add what ``plans`` write to ``writes``: their ImportRows (when importing, the rows
    that create a user go to ``created`` instead), and when importing, the new users,
    changed fields, gained levels and mails owed."""
    if not setting.outcome:
        writes.import_rows += [row_tuple(plan, setting) for plan in plans]
        return writes
    _keep_outcome(plans, setting, writes)
    new_user_tail = (setting.booleans[False], "", setting.now, setting.now)
    now, level_ids = setting.now, setting.level_ids
    ids_of: dict[tuple[str, ...], tuple[int, ...]] = {}  # nearly every row gains the same
    for plan in plans:
        action, email = plan.action, plan.row.user["email"]
        if action is RowAction.CREATE:
            writes.new_users.append(_new_user(plan.row.user, setting) + new_user_tail)
            if setting.notify_new:
                writes.welcome.append(email)
        elif action is RowAction.UPDATE:
            writes.known_ids[email] = plan.user_id
            if plan.field_changes:
                # Grouped by which columns change, so that each group is written at once.
                columns = tuple(sorted(plan.field_changes))
                values = [plan.field_changes[column][1] for column in columns]
                writes.field_updates[columns].append((*values, now, plan.user_id))
            if setting.notify_existing and plan.gained_levels:
                levels = json.dumps(list(plan.gained_levels), ensure_ascii=False)
                writes.update_mails.append(
                    (
                        setting.import_id,
                        plan.user_id,
                        MailKind.UPDATED.value,
                        MailStatus.PENDING.value,
                        0,
                        "",
                        levels,
                    )
                )
        if plan.gained_levels:
            gained = plan.gained_levels
            ids = ids_of.get(gained) or ids_of.setdefault(
                gained, tuple(level_ids[name] for name in gained)
            )
            writes.grants[ids].append(email)
    return writes


def _keep_outcome(plans: list[RowPlan], setting: Setting, writes: BatchWrites) -> None:
    """What the import's outcome keeps of ``plans``: a row that creates a user, uncorrected,
    goes in the batch's block; any other as an ImportRow."""
    for plan in plans:
        if plan.action is RowAction.CREATE and not _corrected(plan.row.line, setting):
            writes.created.append((plan.row.line, plan.row.user["email"], plan.gained_levels))
        else:
            writes.import_rows.append(row_tuple(plan, setting))


@dataclass(slots=True)
class CheckedBatch:
    """One batch of checked rows, sorted by ``BatchChecker``; ``plan_batch`` plans it. Sent to
    another process, its rows go as plain tuples: far cheaper to send than the objects."""

    lines: int  # rows of the file this batch covers
    fresh: list[CheckedRow] = field(default_factory=list)  # no earlier row has their address
    maybe_repeated: list[CheckedRow] = field(default_factory=list)  # an earlier row may have
    filled: list[str] = field(default_factory=list)
    accented_names: list[str] = field(default_factory=list)

    def __reduce__(self):
        # The cells go as they are, not as JSON: made where the batch is planned, the JSON
        # costs the checking side nothing, and that side is the slower one.
        fresh = as_tuples(self.fresh, cells_as_json=False)
        maybe = as_tuples(self.maybe_repeated, cells_as_json=False)
        return _rebuilt_batch, (self.lines, fresh, maybe, self.filled, self.accented_names)


def _rebuilt_batch(lines, fresh, maybe_repeated, filled, names) -> CheckedBatch:
    rows, maybe = list(map(from_tuple, fresh)), list(map(from_tuple, maybe_repeated))
    return CheckedBatch(lines, rows, maybe, filled, names)


class BatchChecker:
    """What is done to each batch in order, where its rows are checked: sort out the rows
    whose address may be on an earlier line, and note the columns and names the preview
    shows. It remembers every batch before (``SeenAddresses``), so one checker sees them all.
    Needs no database (see the top of this module)."""

    def __init__(self, setting: Setting, expected_rows: int) -> None:
        self.setting = setting
        self.seen = SeenAddresses(expected_rows)
        # For the preview: the columns no row has filled so far (the table folds them).
        self.unfilled = [] if setting.outcome else list(TEMPLATE_COLUMNS)

    def __call__(self, rows: list[CheckedRow]) -> CheckedBatch:
        batch = CheckedBatch(len(rows))
        for row, maybe in zip(rows, self.seen.maybe_seen(rows), strict=True):
            (batch.maybe_repeated if maybe else batch.fresh).append(row)
        if self.setting.collect_names:
            batch.accented_names = _names_with_accents(rows)
        if self.unfilled:
            batch.filled = _filled(rows, self.unfilled)
            self.unfilled = [column for column in self.unfilled if column not in batch.filled]
        return batch


def plan_batch(batch: CheckedBatch, setting: Setting) -> BatchWrites:
    """The writes of a sorted batch: its fresh rows planned as if every user were new, the
    rest left for ``settle_repeated``. Needs no database and remembers nothing, so it may run
    in either process."""
    plans = [plan_row(row, None, setting.chosen) for row in batch.fresh]
    writes = BatchWrites(
        lines=batch.lines,
        candidates=_as_candidates(
            [row for row in batch.fresh if not row.problems], cells=not setting.outcome
        ),
        maybe_repeated=as_tuples(batch.maybe_repeated),
        accented_names=batch.accented_names,
        filled=batch.filled,
    )
    return prepare(plans, setting, writes)


def _as_candidates(rows: list[CheckedRow], *, cells: bool) -> list[tuple]:
    """(line, values, levels, cells as JSON) of each row: planned in the helper, nearly every
    row of the file crosses the pipe this way, and a tuple of plain values costs far less to
    send than ``as_tuples``.
    Without ``cells`` (an import's outcome keeps none of a row it does not skip) "{}"."""
    if cells:
        return [(r.line, tuple(r.user.values()), r.levels, r.cells_as_json()) for r in rows]
    return [(r.line, tuple(r.user.values()), r.levels, NO_CELLS) for r in rows]


def _filled(rows: list[CheckedRow], columns: list[str]) -> list[str]:
    """Of ``columns``, those some row fills (a column with a problem counts as filled: the
    admin must see it). Stops at the first filled row of each column."""
    found = []
    for column in columns:
        if column == "levels":
            filled = any(row.levels for row in rows)
        else:
            filled = any(row.user[column] for row in rows)
        if filled or any(p.column == column for row in rows for p in row.problems):
            found.append(column)
    return found


SAMPLE_NAMES = 6


def _names_with_accents(rows: list[CheckedRow], most: int = SAMPLE_NAMES) -> list[str]:
    """A few names with non-ASCII letters, as read: the admin judges the encoding by them."""
    names: list[str] = []
    for row in rows:
        user = row.user
        name = " ".join(filter(None, (user["first_name"], user["infix"], user["last_name"])))
        if not name.isascii() and name not in names:
            names.append(name)
            if len(names) == most:
                break
    return names


def settle_existing(writes: BatchWrites, setting: Setting) -> None:
    """Look up the users of the rows planned as new; plan those that exist again, in place."""
    existing = load_existing(values[EMAIL_OF_USER] for _, values, _, _ in writes.candidates)
    if not existing:
        return
    rows = [
        CheckedRow(line, dict(zip(USER_COLUMNS, values, strict=True)), levels, [], {}, cells)
        for line, values, levels, cells in writes.candidates
        if values[EMAIL_OF_USER] in existing
    ]
    lines = {row.line for row in rows}
    writes.new_users = [user for user in writes.new_users if user[EMAIL_OF_USER] not in existing]
    writes.welcome = [email for email in writes.welcome if email not in existing]
    writes.import_rows = [row for row in writes.import_rows if row[LINE_OF_IMPORT_ROW] not in lines]
    writes.created = [row for row in writes.created if row[0] not in lines]
    for level_ids, emails in writes.grants.items():
        writes.grants[level_ids] = [email for email in emails if email not in existing]
    plans = [plan_row(row, existing[row.user["email"]], setting.chosen) for row in rows]
    prepare(plans, setting, writes)


def settle_repeated(
    writes: BatchWrites, setting: Setting, earlier_lines: EarlierLines
) -> BatchWrites:
    """The writes of the rows that may repeat an address: each is checked against the rows
    stored so far (this batch's others included), then planned. Call after writing the
    batch's others."""
    rows = [from_tuple(row) for row in writes.maybe_repeated]
    first_line = earlier_lines([row.user["email"] for row in rows if row.user["email"]])
    rows = list(mark_duplicates(rows, first_line))
    existing = load_existing(row.user["email"] for row in rows if not row.problems)
    plans = [plan_row(row, existing.get(row.user["email"]), setting.chosen) for row in rows]
    return prepare(plans, setting, BatchWrites())


def planned_batches(table: CsvTable, setting: Setting) -> Iterator[BatchWrites]:
    """The writes of every batch of ``table``. A large file is checked in a helper process,
    which plans the batches too but for a preview on SQLite (see the top of this module)."""
    # A row takes 50 bytes or more in a CSV file, far fewer in a (zipped) workbook.
    expected_rows = table.size // (50 if table.kind == "csv" else 5)
    checker, levels = BatchChecker(setting, expected_rows), known_levels()
    if setting.outcome or db.session.get_bind().dialect.name != "sqlite":
        # Both checking and planning where the rows are checked: an import writes users,
        # levels and mails here, and a PostgreSQL server is a third process that needs a core
        # while the rows are written (planning here made its preview of 100,000 rows 2.1 s
        # instead of 1.6).
        checked_and_planned = partial(_check_and_plan, checker, setting)
        return check_in_batches(
            table, setting.fixes, levels, checked_and_planned, smtputf8=setting.smtputf8
        )
    # A preview on SQLite writes one row per line and nothing else: here the checking is the
    # slower side, so this process plans while the next batches are being checked (100,000
    # rows: 0.8 s instead of 1.1).
    checked = check_in_batches(table, setting.fixes, levels, checker, smtputf8=setting.smtputf8)
    return map(partial(plan_batch, setting=setting), checked)


def _check_and_plan(checker: BatchChecker, setting: Setting, rows: list) -> BatchWrites:
    return plan_batch(checker(rows), setting)


def write(writes: BatchWrites, setting: Setting) -> list[tuple]:
    """Write one batch in the session's transaction, but for the rows that created a user:
    those are returned, (line, user id, address, levels gained), to be kept as a block. Levels
    and mails are written by user id: the new users' ids come back from their INSERT, the
    others' were looked up."""
    ids = insert_with_ids(User.__table__, USER_INSERT_COLUMNS, writes.new_users, "email")
    ids.update(writes.known_ids)
    update_many(
        User.__table__,
        {(*columns, "updated_at"): rows for columns, rows in writes.field_updates.items()},
    )
    # A level granted meanwhile by someone else is no error.
    granted = (setting.now, GrantSource.IMPORT.value, setting.import_id)
    for level_ids, emails in writes.grants.items():
        user_ids = [ids[email] for email in emails]
        insert_pairs(UserLevel.__table__, GRANT_COLUMNS, user_ids, list(level_ids), granted)
    insert_many(ImportRow.__table__, IMPORT_ROW_COLUMNS, writes.import_rows)
    welcome_mails = [
        (setting.import_id, user_id, MailKind.WELCOME.value, MailStatus.PENDING.value, 0, "", "[]")
        for user_id in sorted(ids[email] for email in writes.welcome)
    ]
    insert_many(ImportMail.__table__, MAIL_COLUMNS, welcome_mails, ignore_conflicts=True)
    insert_many(ImportMail.__table__, MAIL_COLUMNS, writes.update_mails, ignore_conflicts=True)
    return [(line, ids[email], email, levels) for line, email, levels in writes.created]


def write_all(
    batches: Iterator[BatchWrites],
    setting: Setting,
    earlier_lines: EarlierLines,
    progress: Callable[[int], None] = lambda done: None,
) -> tuple[list[str], set[str]]:
    """Write every batch, settling the rows that may repeat an address; returns the names
    with accents collected (see ``Setting.collect_names``) and, for a preview, the columns
    some row fills."""
    done, names, filled = 0, [], set()
    with _fewer_collections():
        for writes in batches:
            settle_existing(writes, setting)
            created = write(writes, setting)
            if writes.maybe_repeated:
                repeated = settle_repeated(writes, setting, _or_in(created, earlier_lines))
                created += write(repeated, setting)
            write_block(setting.import_id, created)
            for name in writes.accented_names:
                if len(names) < SAMPLE_NAMES and name not in names:
                    names.append(name)
            filled.update(writes.filled)
            done += writes.lines
            progress(done)
    return names, filled


def _or_in(created: list[tuple], earlier_lines: EarlierLines) -> EarlierLines:
    """``earlier_lines`` that also knows the batch's rows that created a user, not yet
    stored."""
    lines = {email: line for line, _, email, _ in created}

    def lookup(emails: list[str]) -> dict[str, int]:
        found = earlier_lines(emails)
        for email in emails:
            if email in lines and lines[email] < found.get(email, lines[email] + 1):
                found[email] = lines[email]
        return found

    return lookup


@contextmanager
def _fewer_collections():
    """Let Python's cycle collector run less often while rows stream through (in the helper
    process too, which starts inside): every batch makes thousands of small tuples that die
    young, which the collector would otherwise search through for cycles every 700 of them
    (a second per million rows). They are freed as usual; only the search waits longer."""
    thresholds = gc.get_threshold()
    gc.set_threshold(50_000, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
