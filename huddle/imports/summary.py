"""An import summed up for the admin: the confirm step's sentence, the mails it would send,
the first user it would import (for sample mails), its outcome rows, and the history."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..extensions import db
from ..i18n import ngettext
from ..models import ImportRow, ImportRun, ImportStatus, User
from ..pipeline.planning import RowAction
from .lookups import chosen_level_names, existing_changes

OUTCOME_ROWS_SHOWN = 500
HISTORY_LENGTH = 200


@dataclass(frozen=True)
class ImportCounts:
    """What an import does (or did), counted so that the parts add up: every row is new,
    existing or invalid; of the existing users, those who gain each level, those whose
    details change and those already up to date."""

    rows: int
    new: int
    existing: int
    invalid: int
    gains: dict[str, int]  # level → existing users who gain it
    details_updated: int  # existing users whose details change
    details_and_levels: int  # of those, the ones who gain a level too
    unchanged: int  # existing users already up to date
    welcome_mails: int
    update_mails: int


def import_counts(run: ImportRun) -> ImportCounts:
    """The counts of an import, from its stored rows and its current mail options."""
    gains, details_updated, details_and_levels = existing_changes(run.id)
    welcome, updated = mails_to_send(run)
    return ImportCounts(
        rows=run.rows_total,
        new=run.new_count,
        existing=run.update_count + run.unchanged_count,
        invalid=run.invalid_count,
        gains=gains,
        details_updated=details_updated,
        details_and_levels=details_and_levels,
        unchanged=run.unchanged_count,
        welcome_mails=welcome,
        update_mails=updated,
    )


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


def existing_parts(counts: ImportCounts, *, done: bool = False) -> list[str]:
    """What happens to the existing users, in parts that add up to them: those who gain
    each level, those who only get their details updated, those already up to date ("1
    gains B", "2 get their details updated", "1 is already up to date"; ``done``: "1 gained
    B", … for the report). Those who gain a level and get their details updated too are
    named after the levels ("of whom 1 also gets their details updated")."""
    parts = []
    for level, number in counts.gains.items():
        if done:
            parts.append(
                ngettext(
                    "%(num)s gained %(level)s", "%(num)s gained %(level)s", number, level=level
                )
            )
        else:
            parts.append(
                ngettext("%(num)s gains %(level)s", "%(num)s gain %(level)s", number, level=level)
            )
    if counts.details_and_levels and done:
        parts.append(
            ngettext(
                "of whom %(num)s also got their details updated",
                "of whom %(num)s also got their details updated",
                counts.details_and_levels,
            )
        )
    elif counts.details_and_levels:
        parts.append(
            ngettext(
                "of whom %(num)s also gets their details updated",
                "of whom %(num)s also get their details updated",
                counts.details_and_levels,
            )
        )
    details_only = counts.details_updated - counts.details_and_levels
    if details_only and done:
        parts.append(
            ngettext(
                "%(num)s got their details updated",
                "%(num)s got their details updated",
                details_only,
            )
        )
    elif details_only:
        parts.append(
            ngettext(
                "%(num)s gets their details updated",
                "%(num)s get their details updated",
                details_only,
            )
        )
    if counts.unchanged and done:
        parts.append(
            ngettext(
                "%(num)s was already up to date",
                "%(num)s were already up to date",
                counts.unchanged,
            )
        )
    elif counts.unchanged:
        parts.append(
            ngettext(
                "%(num)s is already up to date",
                "%(num)s are already up to date",
                counts.unchanged,
            )
        )
    return parts


def summary_sentence(run: ImportRun) -> str:
    """The effect of the import in a few sentences, for the confirm step: "2 new users. Of
    the 4 existing users: 1 gains B, 2 get their details updated, 1 is already up to date.
    Nobody loses anything. 1 invalid row is skipped. 2 welcome mails and 1 update mail are
    sent." """
    counts = import_counts(run)
    levels = ", ".join(chosen_level_names(run))
    if levels and counts.new:
        sentences = [
            ngettext(
                "%(num)s new user, with %(levels)s.",
                "%(num)s new users, with %(levels)s.",
                counts.new,
                levels=levels,
            )
        ]
    else:
        sentences = [ngettext("%(num)s new user.", "%(num)s new users.", counts.new)]
    if counts.existing:
        sentences.append(
            ngettext(
                "%(num)s existing user: %(parts)s.",
                "Of the %(num)s existing users: %(parts)s.",
                counts.existing,
                parts=", ".join(existing_parts(counts)),
            )
        )
    else:
        sentences.append(_("No row is for an existing user."))
    sentences.append(_("Nobody loses anything."))
    if counts.invalid:
        sentences.append(
            ngettext(
                "%(num)s invalid row is skipped.",
                "%(num)s invalid rows are skipped.",
                counts.invalid,
            )
        )
    sentences.append(_mails_sentence(counts))
    return " ".join(sentences)


def _mails_sentence(counts: ImportCounts) -> str:
    welcome, updated = counts.welcome_mails, counts.update_mails
    if welcome and updated:
        return _(
            "%(welcome)s and %(updated)s are sent.",
            welcome=ngettext("%(num)s welcome mail", "%(num)s welcome mails", welcome),
            updated=ngettext("%(num)s update mail", "%(num)s update mails", updated),
        )
    if welcome:
        return ngettext("%(num)s welcome mail is sent.", "%(num)s welcome mails are sent.", welcome)
    if updated:
        return ngettext("%(num)s update mail is sent.", "%(num)s update mails are sent.", updated)
    return _("No mails are sent.")


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
