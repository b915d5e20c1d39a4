"""Which users an export covers, as kept on the Export: rows ticked, everyone matching a
search and level filter, or everyone with some levels (the command line)."""

from __future__ import annotations

from sqlalchemy import func, select

from ..extensions import db
from ..models import Level, User
from ..users.listing import UserQuery, has_any_level

MAX_TICKED = 1000  # rows ticked on one page; "all matching" covers more


class SelectionError(ValueError):
    """What the admin asked to export makes no sense (nothing ticked, say)."""


def ticked(user_ids) -> dict:
    ids = sorted({int(value) for value in user_ids if str(value).isdigit()})
    if not ids:
        raise SelectionError("Tick at least one user to export.")
    if len(ids) > MAX_TICKED:
        raise SelectionError(f"Tick at most {MAX_TICKED} users, or select all that match.")
    return {"user_ids": ids}


def matching(query: UserQuery) -> dict:
    return {"q": query.q, "level_id": query.level_id}


def with_levels(names: list[str]) -> dict:
    return {"levels": sorted(names)}


def filters(selection: dict) -> list:
    """SQL conditions on ``User`` for ``selection``."""
    if "user_ids" in selection:
        return [User.id.in_(selection["user_ids"])]
    if "levels" in selection:
        if not selection["levels"]:
            return []  # the command line without --level: everyone
        ids = db.session.scalars(select(Level.id).where(Level.name.in_(selection["levels"])))
        return [has_any_level(ids)]
    return UserQuery(q=selection.get("q", ""), level_id=selection.get("level_id")).filters()


def count(selection: dict) -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(*filters(selection)))


def describe_selection(selection: dict) -> str:
    """In words, for the Exports page and the mail: what was exported."""
    if "user_ids" in selection:
        return "users ticked on Users › Manage"
    if "levels" in selection:
        names = selection["levels"]
        return (
            "users with level " + " or ".join(f"“{name}”" for name in names)
            if names
            else "all users"
        )
    parts = []
    if selection.get("q"):
        parts.append(f"matching “{selection['q']}”")
    if selection.get("level_id"):
        level = db.session.get(Level, selection["level_id"])
        parts.append(f"with level “{level.name}”" if level else "with a level since deleted")
    return "all users " + " and ".join(parts) if parts else "all users"
