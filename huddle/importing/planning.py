"""What importing a row would do to the database: create, update, leave alone or skip.

``plan_row`` is pure: it compares a checked row with the user the database has for its address.
``iter_plans`` streams a whole file through read → validate → plan for a dry run, looking
existing users up with one query per batch; an import and its preview plan in batches.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from ..csvio.checking import BATCH_ROWS, check_rows, in_batches
from ..csvio.columns import USER_COLUMNS
from ..csvio.reading import CsvTable
from ..csvio.validating import CheckedRow, mark_duplicates
from ..extensions import db
from ..models import Level, RowAction
from .bulk import select_in


@dataclass(slots=True)
class ExistingUser:
    id: int
    values: dict[str, str]
    levels: set[str]


@dataclass(slots=True)
class RowPlan:
    row: CheckedRow
    action: RowAction
    user_id: int | None = None
    # column → (stored value, value from the file); a blank cell never appears here.
    # (None for none: a plan is made for every row, and most change no field.)
    field_changes: dict[str, tuple[str, str]] | None = None
    gained_levels: tuple[str, ...] = ()

    @property
    def changes(self) -> dict:
        return {
            "fields": {column: list(pair) for column, pair in (self.field_changes or {}).items()},
            "levels": list(self.gained_levels),
        }


def plan_row(row: CheckedRow, existing: ExistingUser | None, chosen: Sequence[str]) -> RowPlan:
    """The plan for one checked row; ``chosen`` are the levels picked for the whole import."""
    if row.problems:
        return RowPlan(row, RowAction.SKIP)
    wanted = tuple(dict.fromkeys((*chosen, *row.levels))) if row.levels else tuple(chosen)
    if existing is None:
        return RowPlan(row, RowAction.CREATE, gained_levels=wanted)
    changes = {
        column: (existing.values[column], value)
        for column, value in row.user.items()
        if value and column != "email" and value != existing.values[column]
    }
    gained = tuple(name for name in wanted if name not in existing.levels)
    action = RowAction.UPDATE if changes or gained else RowAction.UNCHANGED
    return RowPlan(row, action, existing.id, changes, gained)


_EXISTING_QUERY = f"SELECT id, {', '.join(USER_COLUMNS)} FROM users WHERE email IN"
_LEVELS_QUERY = (
    "SELECT user_levels.user_id, levels.name FROM user_levels"
    " JOIN levels ON levels.id = user_levels.level_id WHERE user_levels.user_id IN"
)


def load_existing(emails: Iterable[str]) -> dict[str, ExistingUser]:
    """The users with these (normalised) addresses, with their level names: two queries."""
    found = {}
    for user_id, *values in select_in(_EXISTING_QUERY, list({e for e in emails if e})):
        user = ExistingUser(user_id, dict(zip(USER_COLUMNS, values, strict=True)), set())
        found[user.values["email"]] = user
    by_id = {user.id: user for user in found.values()}
    for user_id, name in select_in(_LEVELS_QUERY, list(by_id)):
        by_id[user_id].levels.add(name)
    return found


def known_levels() -> dict[str, str]:
    """Lower-case level name → its spelling, for matching the file's levels column."""
    return {name.lower(): name for name in db.session.scalars(select(Level.name))}


def iter_plans(
    table: CsvTable, fixes: Mapping[str, dict], chosen: Sequence[str]
) -> Iterator[list[RowPlan]]:
    """Batches of plans for every row of ``table``, in file order, writing nothing (a dry run).
    An address used twice is found in memory, which is fine for a dry run but not for a
    million rows: importing and the preview find it in the rows they store (batches.py)."""
    checked = mark_duplicates(check_rows(table, fixes, known_levels()))
    for batch in in_batches(checked, BATCH_ROWS):
        existing = load_existing(row.user["email"] for row in batch if not row.problems)
        yield [plan_row(row, existing.get(row.user["email"]), chosen) for row in batch]
