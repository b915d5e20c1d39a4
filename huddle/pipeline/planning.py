"""What importing a row does to the stored users: create, update, leave alone or skip.

``plan_row`` is the one place that decides it, for the preview, the import and the dry run
alike. It is pure: it compares a checked row with the user stored for its address (looked up
by the caller) and the levels chosen for the whole import.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from .columns import NEW_USER_COLUMNS
from .messages import _
from .problems import Problem
from .validating import CheckedRow


class RowAction(enum.StrEnum):
    """What an import does with one row of the file."""

    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    SKIP = "skip"  # the row has problems and is not imported


@dataclass(slots=True)
class ExistingUser:
    """A stored user as the planner compares it: id, values by user column, level names."""

    id: int
    values: dict[str, str]
    levels: set[str]


@dataclass(slots=True)
class RowPlan:
    """What one row does: its action, and for an existing user what changes."""

    row: CheckedRow
    action: RowAction
    user_id: int | None = None
    # column → (stored value, value from the file); a blank cell never appears here.
    # (None for none: a plan is made for every row, and most change no field.)
    field_changes: dict[str, tuple[str, str]] | None = None
    gained_levels: tuple[str, ...] = ()
    # Why a skipped row is skipped: its own problems, or what a new user lacks.
    problems: Sequence[Problem] = ()

    @property
    def changes(self) -> dict:
        """The changes as stored with the row: {"fields": {column: [old, new]}, "levels"}."""
        return {
            "fields": {column: list(pair) for column, pair in (self.field_changes or {}).items()},
            "levels": list(self.gained_levels),
        }


def plan_row(row: CheckedRow, existing: ExistingUser | None, chosen: Sequence[str]) -> RowPlan:
    """The plan for one checked row; ``chosen`` are the levels picked for the whole import."""
    if row.problems:
        return RowPlan(row, RowAction.SKIP, problems=row.problems)
    wanted = tuple(dict.fromkeys((*chosen, *row.levels))) if row.levels else tuple(chosen)
    if existing is None:
        lacking = new_user_problems(row.user)
        if lacking:
            return RowPlan(row, RowAction.SKIP, problems=lacking)
        return RowPlan(row, RowAction.CREATE, gained_levels=wanted)
    changes = {
        column: (existing.values[column], value)
        for column, value in row.user.items()
        if value and column != "email" and value != existing.values[column]
    }
    gained = tuple(name for name in wanted if name not in existing.levels)
    action = RowAction.UPDATE if changes or gained else RowAction.UNCHANGED
    return RowPlan(row, action, existing.id, changes, gained)


def new_user_problems(user: dict[str, str]) -> list[Problem]:
    """What a row lacks to make a new user (its address is nobody's yet): a first and a last
    name. An existing user's row needs only the address."""
    if user["first_name"] and user["last_name"]:
        return []
    messages = {
        "first_name": _(
            "A new user needs a first name, and nobody has this address yet. Fill in the "
            "first name, or check the address if this person should already be a user."
        ),
        "last_name": _(
            "A new user needs a last name, and nobody has this address yet. Fill in the "
            "last name, or check the address if this person should already be a user."
        ),
    }
    return [Problem(column, messages[column]) for column in NEW_USER_COLUMNS if not user[column]]
