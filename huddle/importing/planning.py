"""What importing a row would do to the database: create, update, leave alone or skip.

``plan_row`` is pure: it compares a checked row with the user the database has for its address.
``iter_plans`` streams a whole file (plus the admin's fixes) through read → validate →
plan, in batches, looking existing users up with one query per batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select

from ..csvio.checking import check_rows
from ..csvio.columns import USER_COLUMNS
from ..csvio.reading import CsvTable
from ..csvio.validating import CheckedRow, mark_duplicates
from ..extensions import db
from ..models import Level, RowAction
from .bulk import select_in

BATCH_SIZE = 1000


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
    field_changes: dict[str, tuple[str, str]] = field(default_factory=dict)
    gained_levels: list[str] = field(default_factory=list)

    @property
    def changes(self) -> dict:
        return {
            "fields": {column: list(pair) for column, pair in self.field_changes.items()},
            "levels": self.gained_levels,
        }


def plan_row(row: CheckedRow, existing: ExistingUser | None, chosen: Sequence[str]) -> RowPlan:
    """The plan for one checked row; ``chosen`` are the levels picked for the whole import."""
    if row.problems:
        return RowPlan(row, RowAction.SKIP)
    wanted = list(dict.fromkeys([*chosen, *row.levels])) if row.levels else list(chosen)
    if existing is None:
        return RowPlan(row, RowAction.CREATE, gained_levels=wanted)
    changes = {
        column: (existing.values[column], value)
        for column, value in row.user.items()
        if value and column != "email" and value != existing.values[column]
    }
    gained = [name for name in wanted if name not in existing.levels]
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


def _batches(items: Iterable, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


EarlierLines = Callable[[list[str]], dict[str, int]]


def iter_plans(
    table: CsvTable,
    fixes: Mapping[str, dict],
    chosen: Sequence[str],
    earlier_lines: EarlierLines | None = None,
) -> Iterator[list[RowPlan]]:
    """Batches of plans for every row of ``table``, in file order.

    To find an address used twice, ``earlier_lines`` looks up where the batch's addresses
    were in earlier batches (rows already stored). Without it every address of the file is
    kept in memory, which is fine for a dry run but not for a million rows.
    """
    checked = check_rows(table, fixes, known_levels())
    in_memory: dict[str, int] = {}
    for batch in _batches(checked, BATCH_SIZE):
        if earlier_lines is None:
            first_line = in_memory
        else:
            first_line = earlier_lines([row.user["email"] for row in batch if row.user["email"]])
        batch = list(mark_duplicates(batch, first_line))
        emails = [row.user["email"] for row in batch]
        existing = load_existing(row.user["email"] for row in batch if not row.problems)
        yield [
            plan_row(row, existing.get(email), chosen)
            for row, email in zip(batch, emails, strict=True)
        ]
