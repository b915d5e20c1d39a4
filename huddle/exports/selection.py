"""Which users an export covers, as kept on the Export: rows ticked, everyone matching a
search and level filter, or everyone with some levels (the command line)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..bounds import is_id
from ..extensions import db
from ..models import Level, User
from ..users.listing import UserQuery, has_any_level

MAX_TICKED = 1000  # rows ticked on one page; "all matching" covers more


class SelectionError(ValueError):
    """What the admin asked to export makes no sense (nothing ticked, say)."""


def ticked(user_ids) -> dict:
    """The users ticked on a page (at most MAX_TICKED)."""
    ids = sorted({int(value) for value in user_ids if is_id(str(value))})
    if not ids:
        raise SelectionError(_("Tick at least one user to export."))
    if len(ids) > MAX_TICKED:
        raise SelectionError(
            _("Tick at most %(count)s users, or select all that match.", count=MAX_TICKED)
        )
    return {"user_ids": ids}


def matching(query: UserQuery) -> dict:
    """Everyone matching the search and level filter of Users > Manage."""
    return {"q": query.q, "level_id": query.level_id}


def with_levels(names: list[str]) -> dict:
    """Everyone with any of these levels (everyone when there are none)."""
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
    """How many users the selection covers now."""
    return db.session.scalar(select(func.count()).select_from(User).where(*filters(selection)))


def describe_selection(selection: dict) -> str:
    """In words, for the Exports page and the mail: what was exported."""
    if "user_ids" in selection:
        return _("users ticked on Users › Manage")
    if "levels" in selection:
        names = selection["levels"]
        either = _(" or ").join(f"“{name}”" for name in names)
        return _("users with level %(levels)s", levels=either) if names else _("all users")
    parts = []
    if selection.get("q"):
        parts.append(_("matching “%(q)s”", q=selection["q"]))
    if selection.get("level_id"):
        level = db.session.get(Level, selection["level_id"])
        parts.append(
            _("with level “%(name)s”", name=level.name)
            if level
            else _("with a level since deleted")
        )
    if not parts:
        return _("all users")
    return _("all users %(conditions)s", conditions=_(" and ").join(parts))
