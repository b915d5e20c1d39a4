"""Running an import: check the file once more and apply it in one transaction, in bulk.

Nothing is half-imported: every row is written inside one transaction that also marks the run
done, so a failure (or a killed worker) leaves the database as it was. Existing users are
matched by normalised e-mail address; levels are only ever added; a blank cell never clears a
stored value; ``is_admin`` and passwords are never touched.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..csvio.reading import FileProblem, open_csv
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
from .planning import RowPlan, iter_plans
from .staging import chosen_level_names, recount, row_record

log = logging.getLogger(__name__)

Progress = Callable[[int], None]


class ImportAlreadyRan(Exception):
    """The run is not waiting to be applied (it is done, failed or rejected)."""


def _insert_ignoring_duplicates(table):
    """INSERT ... ON CONFLICT DO NOTHING, on SQLite and PostgreSQL alike."""
    dialect = db.session.get_bind().dialect.name
    construct = pg_insert if dialect == "postgresql" else sqlite_insert
    return construct(table).on_conflict_do_nothing()


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
        _apply(run, progress or (lambda done: None))
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        log.exception("Import %s failed", run_id)
        run = db.session.get(ImportRun, run_id)
        run.status = ImportStatus.FAILED
        run.error = _describe(exc)
        run.finished_at = utcnow()
        if run.created_by_id:
            db.session.add(
                ImportMail(import_id=run.id, user_id=run.created_by_id, kind=MailKind.REPORT)
            )
        db.session.commit()
    return run


def _describe(exc: Exception) -> str:
    if isinstance(exc, FileProblem):
        return str(exc)
    # The database's own words are in the log; the admin gets the gist and what to do.
    detail = str(getattr(exc, "orig", exc)).splitlines()[0][:300]
    return (
        f"The database refused the import ({type(exc).__name__}: {detail}). Nothing was "
        "imported. Try again; if it fails again, contact support with this message."
    )


def _apply(run: ImportRun, progress: Progress) -> None:
    table = open_csv(run.file_data)
    level_ids = dict(db.session.execute(select(Level.name, Level.id)).all())
    now = utcnow()
    db.session.execute(delete(ImportRow).where(ImportRow.import_id == run.id))
    done = 0
    for plans in iter_plans(table, run.fixes, chosen_level_names(run)):
        _write(run, plans, level_ids, now)
        done += len(plans)
        progress(done)
    run.blank_lines = table.blank_lines
    recount(run)
    if run.created_by_id:
        db.session.add(
            ImportMail(import_id=run.id, user_id=run.created_by_id, kind=MailKind.REPORT)
        )
    run.status = ImportStatus.DONE
    run.finished_at = utcnow()


def _write(run: ImportRun, plans: list[RowPlan], level_ids: dict[str, int], now) -> None:
    """One batch: new users, changed fields, added levels, the row outcomes, the mails owed."""
    session = db.session
    creates = [plan for plan in plans if plan.action == RowAction.CREATE]
    if creates:
        new_ids = session.execute(
            User.__table__.insert().returning(User.id, User.email),
            [
                {
                    **p.row.user,
                    "is_admin": False,
                    "password_hash": "",
                    "created_at": now,
                    "updated_at": now,
                }
                for p in creates
            ],
        ).all()
        ids = dict((email, user_id) for user_id, email in new_ids)
        for plan in creates:
            plan.user_id = ids[plan.row.email]

    # Updates grouped by which columns change, so each group is one executemany.
    by_columns: dict[tuple[str, ...], list[dict]] = defaultdict(list)
    for plan in plans:
        if plan.action == RowAction.UPDATE and plan.field_changes:
            columns = tuple(sorted(plan.field_changes))
            values = {column: plan.field_changes[column][1] for column in columns}
            by_columns[columns].append({"_id": plan.user_id, "updated_at": now, **values})
    for columns, params in by_columns.items():
        statement = (
            update(User.__table__)
            .where(User.__table__.c.id == bindparam("_id"))
            .values({column: bindparam(column) for column in (*columns, "updated_at")})
        )
        session.execute(statement, params)

    grants = [
        {
            "user_id": plan.user_id,
            "level_id": level_ids[name],
            "granted_at": now,
            "granted_via": GrantSource.IMPORT.value,
            "granted_by_id": run.id,
        }
        for plan in plans
        for name in plan.gained_levels
    ]
    if grants:
        session.execute(_insert_ignoring_duplicates(UserLevel.__table__), grants)

    session.execute(ImportRow.__table__.insert(), [row_record(run.id, p, run.fixes) for p in plans])

    mails = []
    for plan in plans:
        if plan.action == RowAction.CREATE and run.notify_new:
            mails.append({"kind": MailKind.WELCOME.value, "user_id": plan.user_id, "levels": []})
        elif plan.action == RowAction.UPDATE and plan.gained_levels and run.notify_existing:
            mails.append(
                {
                    "kind": MailKind.UPDATED.value,
                    "user_id": plan.user_id,
                    "levels": plan.gained_levels,
                }
            )
    if mails:
        session.execute(
            _insert_ignoring_duplicates(ImportMail.__table__),
            [
                {
                    "import_id": run.id,
                    "user_id": mail["user_id"],
                    "kind": mail["kind"],
                    "status": "pending",
                    "attempts": 0,
                    "last_error": "",
                    "levels_gained": mail["levels"],
                }
                for mail in mails
            ],
        )
