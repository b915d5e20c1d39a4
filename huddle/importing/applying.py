"""Running an import: check the file once more and apply it in one transaction, in bulk.

Nothing is half-imported: every row is written inside one transaction that also marks the run
done, so a failure (or a killed worker) leaves the database as it was. Existing users are
matched by normalised e-mail address; levels are only ever added; a blank cell never clears a
stored value; ``is_admin`` and passwords are never touched.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable
from operator import itemgetter

from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..csvio.columns import USER_COLUMNS
from ..csvio.reading import FileProblem, ReadOptions, open_table
from ..extensions import db
from ..models import (
    GrantSource,
    ImportMail,
    ImportRow,
    ImportRun,
    ImportStatus,
    Level,
    MailKind,
    RowAction,
    User,
    UserLevel,
    utcnow,
)
from .bulk import db_value, insert_many, select_in, update_many
from .planning import RowPlan, iter_plans
from .staging import chosen_level_names, recount, store_rows, stored_lines

log = logging.getLogger(__name__)

Progress = Callable[[int], None]


class ImportAlreadyRan(Exception):
    """The run is not waiting to be applied (it is done, failed or rejected)."""


def apply_import(run: ImportRun, progress: Progress | None = None) -> ImportRun:
    """Apply ``run``. Returns it done, or failed with the reason in ``run.error``."""
    if run.status in (ImportStatus.DONE, ImportStatus.REJECTED):
        raise ImportAlreadyRan(run.status)
    run.status = ImportStatus.RUNNING
    run.started_at = utcnow()
    run.error = ""
    db.session.commit()  # the admin sees "running" while the rows are written
    run_id = run.id
    try:
        try:
            _apply(run, progress or (lambda done: None))
        except IntegrityError:
            # Another import created some of these users while this one ran (PostgreSQL
            # lets both plan them as new; the second insert waits, then collides). Once
            # more, from the start: now they exist, and are updated instead.
            db.session.rollback()
            log.warning("Import %s collided with another import; running it again", run_id)
            run = db.session.get(ImportRun, run_id)
            _apply(run, progress or (lambda done: None))
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        log.exception("Import %s failed", run_id)
        run = db.session.get(ImportRun, run_id)
        run.status = ImportStatus.FAILED
        run.error = _describe(exc)
        run.finished_at = utcnow()
        _owe_report(run)
        db.session.commit()
    return run


def _owe_report(run: ImportRun) -> None:
    """The admin who started the import is owed a report of how it ended. A run that ends a
    second time (a retry after a failure) sends a new report, with the new outcome."""
    if not run.created_by_id:
        return
    report = db.session.scalar(
        select(ImportMail).where(
            ImportMail.import_id == run.id,
            ImportMail.user_id == run.created_by_id,
            ImportMail.kind == MailKind.REPORT.value,
        )
    )
    if report is None:
        db.session.add(
            ImportMail(import_id=run.id, user_id=run.created_by_id, kind=MailKind.REPORT)
        )
    else:
        report.status, report.attempts, report.last_error = "pending", 0, ""


def _describe(exc: Exception) -> str:
    if isinstance(exc, FileProblem):
        return str(exc)
    # The database's own words are in the log; the admin gets the gist and what to do.
    detail = str(getattr(exc, "orig", exc)).splitlines()[0][:300]
    return _(
        "The database refused the import (%(error)s). Nothing was imported. Try again; if it "
        "fails again, contact support with this message.",
        error=f"{type(exc).__name__}: {detail}",
    )


def _apply(run: ImportRun, progress: Progress) -> None:
    table = open_table(run.file_data, ReadOptions.from_dict(run.read_options))
    level_ids = dict(db.session.execute(select(Level.name, Level.id)).all())
    now = db_value(User.created_at, utcnow())
    db.session.execute(delete(ImportRow).where(ImportRow.import_id == run.id))
    done = 0
    plans_in_batches = iter_plans(table, run.fixes, chosen_level_names(run), stored_lines(run.id))
    for plans in plans_in_batches:
        _write(run, plans, level_ids, now)
        done += len(plans)
        progress(done)
    run.blank_lines = table.blank_lines
    recount(run)
    _owe_report(run)
    run.status = ImportStatus.DONE
    run.finished_at = utcnow()


USER_INSERT_COLUMNS = (*USER_COLUMNS, "is_admin", "password_hash", "created_at", "updated_at")
user_values = itemgetter(*USER_COLUMNS)  # a user dict → its values, in USER_COLUMNS order
GRANT_COLUMNS = ("user_id", "level_id", "granted_at", "granted_via", "granted_by_id")
_NEW_IDS_QUERY = "SELECT email, id FROM users WHERE email IN"
MAIL_COLUMNS = ("import_id", "user_id", "kind", "status", "attempts", "last_error", "levels_gained")


def _write(run: ImportRun, plans: list[RowPlan], level_ids: dict[str, int], now) -> None:
    """One batch: new users, changed fields, added levels, the row outcomes, the mails owed."""
    creates = [plan for plan in plans if plan.action == RowAction.CREATE]
    if creates:
        tail = (db_value(User.is_admin, False), "", now, now)
        insert_many(
            User.__table__,
            USER_INSERT_COLUMNS,
            [user_values(p.row.user) + tail for p in creates],
        )
        emails = [p.row.user["email"] for p in creates]
        ids = dict(select_in(_NEW_IDS_QUERY, emails))
        for plan, email in zip(creates, emails, strict=True):
            plan.user_id = ids[email]

    # Updates grouped by which columns change, so that each group is one executemany.
    by_columns: dict[tuple[str, ...], list[tuple]] = defaultdict(list)
    for plan in plans:
        if plan.action == RowAction.UPDATE and plan.field_changes:
            columns = tuple(sorted(plan.field_changes))
            values = [plan.field_changes[column][1] for column in columns]
            by_columns[columns].append((*values, now, plan.user_id))
    for columns, rows in by_columns.items():
        update_many(User.__table__, (*columns, "updated_at"), rows)

    granted_via, run_id = GrantSource.IMPORT.value, run.id
    insert_many(
        UserLevel.__table__,
        GRANT_COLUMNS,
        [
            (plan.user_id, level_ids[name], now, granted_via, run_id)
            for plan in plans
            for name in plan.gained_levels
        ],
        ignore_conflicts=True,  # a level granted meanwhile by someone else is no error
    )
    store_rows(run.id, plans, run.fixes, outcome=True)

    mails = []
    notify_new, notify_existing = run.notify_new, run.notify_existing
    for plan in plans if notify_new or notify_existing else ():
        if plan.action == RowAction.CREATE and notify_new:
            mails.append((run_id, plan.user_id, MailKind.WELCOME.value, "pending", 0, "", "[]"))
        elif plan.action == RowAction.UPDATE and plan.gained_levels and notify_existing:
            levels = json.dumps(plan.gained_levels, ensure_ascii=False)
            mails.append((run_id, plan.user_id, MailKind.UPDATED.value, "pending", 0, "", levels))
    insert_many(ImportMail.__table__, MAIL_COLUMNS, mails, ignore_conflicts=True)
