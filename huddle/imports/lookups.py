"""What an import looks up in the database: the stored users of a batch of addresses, the
levels by name, the levels chosen for an import, where an address was in the rows stored so
far, and an admin's own column titles. Reads only."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import select, text

from ..bulk import select_in
from ..extensions import db
from ..i18n import LANGUAGES, language_of
from ..models import ColumnAlias, ImportRun, Level, User
from ..pipeline.columns import USER_COLUMNS
from ..pipeline.planning import ExistingUser

# Where addresses were in the rows stored so far: addresses → their first line.
EarlierLines = Callable[[list[str]], dict[str, int]]

_EXISTING_QUERY = f"SELECT id, {', '.join(USER_COLUMNS)} FROM users WHERE email"
# By user id alone, no join: the one index that serves it is then the obvious plan.
_LEVELS_QUERY = "SELECT user_id, level_id FROM user_levels WHERE user_id"


def load_existing(emails: Iterable[str]) -> dict[str, ExistingUser]:
    """The users with these (normalised) addresses, with their level names: three queries."""
    found = {}
    for user_id, *values in select_in(_EXISTING_QUERY, list({e for e in emails if e})):
        user = ExistingUser(user_id, dict(zip(USER_COLUMNS, values, strict=True)), set())
        found[user.values["email"]] = user
    if not found:
        return found
    by_id = {user.id: user for user in found.values()}
    names = dict(db.session.execute(select(Level.id, Level.name)).all())
    for user_id, level_id in select_in(_LEVELS_QUERY, list(by_id)):
        by_id[user_id].levels.add(names[level_id])
    return found


def known_levels() -> dict[str, str]:
    """Lower-case level name → its spelling, for matching the file's levels column."""
    return {name.lower(): name for name in db.session.scalars(select(Level.name))}


def chosen_level_names(run: ImportRun) -> list[str]:
    """The names of the levels chosen for everyone in ``run``, sorted."""
    if not run.level_ids:
        return []
    levels = db.session.scalars(select(Level).where(Level.id.in_(run.level_ids)))
    return sorted(level.name for level in levels)


def mail_language(run: ImportRun) -> str:
    """The language of the import's mails to people without one in the file: the admin's
    choice; else Dutch for a file with Dutch column titles; else the admin's own language."""
    if run.mail_language in LANGUAGES:
        return run.mail_language
    if (run.reading or {}).get("title_language") == "nl":
        return "nl"
    return language_of(run.created_by)


def column_aliases(admin: User | None) -> dict[str, str]:
    """The admin's own column titles from their earlier imports: title → template column."""
    if admin is None:
        return {}
    return dict(
        db.session.execute(
            select(ColumnAlias.title, ColumnAlias.column).where(ColumnAlias.admin_id == admin.id)
        ).all()
    )


def stored_lines(import_id: int) -> EarlierLines:
    """Where addresses were in the rows of this import stored so far (for finding an address
    used twice): a function from addresses to their first line."""
    query = f"SELECT email, line FROM import_rows WHERE import_id = {int(import_id)} AND email"

    def lookup(emails: list[str]) -> dict[str, int]:
        first: dict[str, int] = {}
        for email, line in select_in(query, emails):
            if line < first.get(email, line + 1):
                first[email] = line
        return first

    return lookup


# An import's existing users who gain each level, and whose details change, from its stored
# rows (the "changes" JSON: {"fields": {...}, "levels": [...]}).
_GAINS_QUERY = {
    "postgresql": "SELECT level, count(*) FROM import_rows, "
    "json_array_elements_text(changes->'levels') AS level",
    "sqlite": "SELECT value, count(*) FROM import_rows, json_each(changes, '$.levels')",
}
_FIELDS_CHANGED = {
    "postgresql": "(changes->'fields')::text <> '{}'",
    "sqlite": "json_extract(changes, '$.fields') <> '{}'",
}
_OF_UPDATES = " WHERE import_id = :id AND action = 'update'"


def existing_changes(import_id: int) -> tuple[dict[str, int], int, int]:
    """({level: existing users who gain it}, existing users whose details change, of those
    the ones who gain a level too) among an import's rows, as planned in its preview or as
    done by the import."""
    dialect = db.session.get_bind().dialect.name
    gains = db.session.execute(
        text(_GAINS_QUERY[dialect] + _OF_UPDATES + " AND gains_levels GROUP BY 1 ORDER BY 1"),
        {"id": import_id},
    )
    details, with_gains = db.session.execute(
        text(
            "SELECT count(*), coalesce(sum(CASE WHEN gains_levels THEN 1 ELSE 0 END), 0) "
            f"FROM import_rows{_OF_UPDATES} AND {_FIELDS_CHANGED[dialect]}"
        ),
        {"id": import_id},
    ).one()
    return dict(gains.all()), details, with_gains
