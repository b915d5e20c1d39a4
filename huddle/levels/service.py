"""Access levels: listing with user counts, creating, renaming and deleting."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from ..extensions import db
from ..models import Level, UserLevel
from ..pipeline.columns import LEVEL_SEPARATOR

NAME_MAX = Level.name.property.columns[0].type.length


class LevelNameError(ValueError):
    """A level name that cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class LevelWithCount:
    """A level and how many users have it."""

    level: Level
    user_count: int


def all_levels() -> list[Level]:
    """Every level, by name."""
    return db.session.scalars(select(Level).order_by(Level.name)).all()


def levels_with_counts() -> list[LevelWithCount]:
    """Every level with its number of users, by name."""
    counts = (
        select(UserLevel.level_id, func.count().label("n")).group_by(UserLevel.level_id).subquery()
    )
    rows = db.session.execute(
        select(Level, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.level_id == Level.id)
        .order_by(Level.name)
    ).all()
    return [LevelWithCount(level, count) for level, count in rows]


def user_count(level: Level) -> int:
    """How many users have the level."""
    return db.session.scalar(
        select(func.count()).select_from(UserLevel).where(UserLevel.level_id == level.id)
    )


def find_level(name: str) -> Level | None:
    """The level called ``name``, ignoring case and surrounding spaces."""
    return db.session.scalar(select(Level).where(func.lower(Level.name) == name.strip().lower()))


def check_name(name: str, *, except_level: Level | None = None) -> str:
    """The cleaned name, or ``LevelNameError`` saying what is wrong with it."""
    name = " ".join(name.split())
    if not name:
        raise LevelNameError(_("Give the level a name."))
    if len(name) > NAME_MAX:
        raise LevelNameError(_("A level name has at most %(count)s characters.", count=NAME_MAX))
    if LEVEL_SEPARATOR in name:
        raise LevelNameError(
            _("A level name cannot contain “|”: the import file uses it to separate levels.")
        )
    existing = find_level(name)
    if existing is not None and existing is not except_level:
        raise LevelNameError(_("There already is a level called “%(name)s”.", name=existing.name))
    return name


def create_level(name: str, description: str = "") -> Level:
    """A new level; ``LevelNameError`` for a name that is taken or not allowed."""
    level = Level(name=check_name(name), description=description.strip())
    db.session.add(level)
    db.session.commit()
    return level


def update_level(level: Level, name: str, description: str) -> None:
    """Rename and describe the level; ``LevelNameError`` (nothing changed) for a bad name."""
    try:
        level.name = check_name(name, except_level=level)
    except LevelNameError:
        db.session.rollback()
        raise
    level.description = description.strip()
    db.session.commit()


def delete_level(level: Level) -> int:
    """Delete the level; returns how many users lost it."""
    count = user_count(level)
    # One statement for all grants, rather than loading every grant into the session.
    db.session.execute(delete(UserLevel).where(UserLevel.level_id == level.id))
    db.session.delete(level)
    db.session.commit()
    return count
