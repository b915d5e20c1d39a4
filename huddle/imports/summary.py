"""An import summed up for the admin: the confirm step's sentence, the mails it would send,
the first user it would import (for sample mails), its outcome rows, and the history."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..extensions import db
from ..i18n import ngettext
from ..models import ImportRow, ImportRun, ImportStatus, User
from ..pipeline.planning import RowAction
from .lookups import chosen_level_names

OUTCOME_ROWS_SHOWN = 500
HISTORY_LENGTH = 200


def mails_to_send(run: ImportRun) -> tuple[int, int]:
    """(welcome mails, update mails) this import would send with its current options."""
    welcome = run.new_count if run.notify_new else 0
    updated = 0
    if run.notify_existing:
        updated = db.session.scalar(
            select(func.count())
            .select_from(ImportRow)
            .where(
                ImportRow.import_id == run.id,
                ImportRow.action == RowAction.UPDATE.value,
                ImportRow.gains_levels.is_(True),
            )
        )
    return welcome, updated


def summary_sentence(run: ImportRun) -> str:
    """The effect of the import in one sentence, for the confirm step."""
    welcome, updated = mails_to_send(run)
    levels = chosen_level_names(run)
    parts = [ngettext("%(num)s new user", "%(num)s new users", run.new_count)]
    if levels:
        parts.append(
            ngettext(
                "%(num)s existing user changes (gaining %(levels)s where they lack it)",
                "%(num)s existing users change (gaining %(levels)s where they lack it)",
                run.update_count,
                levels=", ".join(levels),
            )
        )
    else:
        parts.append(
            ngettext(
                "%(num)s existing user changes", "%(num)s existing users change", run.update_count
            )
        )
    parts.append(
        ngettext(
            "%(num)s is already up to date", "%(num)s are already up to date", run.unchanged_count
        )
    )
    parts.append(_("nobody loses anything"))
    if run.invalid_count:
        parts.append(
            ngettext(
                "%(num)s invalid row will be skipped",
                "%(num)s invalid rows will be skipped",
                run.invalid_count,
            )
        )
    welcome_mails = ngettext("%(num)s welcome mail", "%(num)s welcome mails", welcome)
    update_mails = ngettext("%(num)s update mail", "%(num)s update mails", updated)
    parts.append(
        _("%(welcome)s and %(updated)s will be sent", welcome=welcome_mails, updated=update_mails)
    )
    return _("%(first)s and %(last)s.", first=", ".join(parts[:-1]), last=parts[-1])


def first_person(run: ImportRun) -> User | None:
    """The first user the import would bring in, as an unsaved ``User`` made from their row
    (to show the mails as they would get them); None when no row would be imported."""
    row = db.session.scalar(
        select(ImportRow)
        .where(ImportRow.import_id == run.id, ImportRow.action != RowAction.SKIP.value)
        .order_by(ImportRow.line)
        .limit(1)
    )
    if row is None:
        return None
    values = row.values
    return User(
        email=row.email,
        first_name=values.get("first_name", "").strip(),
        last_name=values.get("last_name", "").strip(),
        language=values.get("language", "").strip(),
    )


def outcome_rows(run: ImportRun) -> list[ImportRow]:
    """The rows of a finished import the admin wants to see: those skipped and those that
    changed someone (the first OUTCOME_ROWS_SHOWN)."""
    if run.status != ImportStatus.DONE:
        return []
    return db.session.scalars(
        select(ImportRow)
        .where(
            ImportRow.import_id == run.id,
            ImportRow.action.in_([RowAction.SKIP.value, RowAction.UPDATE.value]),
        )
        .order_by(ImportRow.line)
        .limit(OUTCOME_ROWS_SHOWN)
    ).all()


def recent_imports() -> list[ImportRun]:
    """The latest imports of every admin, newest first (the history page)."""
    return db.session.scalars(
        select(ImportRun).order_by(ImportRun.created_at.desc()).limit(HISTORY_LENGTH)
    ).all()
