"""An import's whole outcome as a file: every line of the file with what happened to it
(created, updated from old to new, unchanged, skipped and why); for an import that failed,
what would have happened. For the admin to keep, check or hand on."""

from __future__ import annotations

import io

from flask_babel import gettext as _

from ..models import ImportRun, ImportStatus
from ..pipeline.columns import LABELS
from ..pipeline.planning import RowAction
from ..pipeline.writing import write_csv
from .created import every_row


def outcome_csv(run: ImportRun) -> bytes:
    """The outcome file of a finished (or failed) import, in the current language:
    line; e-mail address; outcome; details."""
    header = [_("line"), _("e-mail address"), _("outcome"), _("details")]
    done = run.status == ImportStatus.DONE
    results = _results(done)
    rows = (
        [str(line), email, results.get(action, action), _details(problems, changes)]
        for line, email, action, problems, changes in every_row(run.id)
    )
    out = io.BytesIO()
    write_csv(rows, out, header)
    return out.getvalue()


def _results(done: bool) -> dict[str, str]:
    """What each action is called: what happened, or (the import failed) what would have."""
    if done:
        return {
            RowAction.CREATE.value: _("created"),
            RowAction.UPDATE.value: _("updated"),
            RowAction.UNCHANGED.value: _("unchanged"),
            RowAction.SKIP.value: _("skipped"),
        }
    return {
        RowAction.CREATE.value: _("not imported: would be created"),
        RowAction.UPDATE.value: _("not imported: would be updated"),
        RowAction.UNCHANGED.value: _("unchanged"),
        RowAction.SKIP.value: _("not imported: would be skipped"),
    }


def _details(problems: list, changes: dict) -> str:
    """Why a row is skipped, or what changes for its user: "gains B | phone: “06 1” → “06 2”"."""
    if problems:
        return " | ".join(
            f"{_label(column)}: {message}" if column else message for column, message in problems
        )
    parts = []
    if changes.get("levels"):
        parts.append(_("gains %(levels)s", levels=", ".join(changes["levels"])))
    for column, (old, new) in (changes.get("fields") or {}).items():
        parts.append(f"{_label(column)}: “{old}” → “{new}”")
    return " | ".join(parts)


def _label(column: str) -> str:
    return _(LABELS[column]) if column in LABELS else column
