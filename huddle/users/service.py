"""Changing one user by hand: their fields, and levels granted or taken away by an admin."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import GrantSource, Level, User, UserLevel, normalise_email
from ..pipeline.columns import USER_COLUMNS

# An admin edits the same fields an import fills.
EDITABLE_FIELDS = USER_COLUMNS


def email_taken(email: str, *, except_user_id: int | None = None) -> bool:
    """Whether another user has this address (whatever its capitals)."""
    stmt = select(User.id).where(User.email == normalise_email(email))
    if except_user_id is not None:
        stmt = stmt.where(User.id != except_user_id)
    return db.session.scalar(stmt) is not None


def update_user(user: User, values: dict[str, str]) -> list[str]:
    """Apply validated ``values`` to ``user`` and commit; returns the names of changed fields."""
    changed = []
    for name in EDITABLE_FIELDS:
        if name not in values:
            continue
        value = (values[name] or "").strip()
        if name == "email":
            value = normalise_email(value)
        if getattr(user, name) != value:
            setattr(user, name, value)
            changed.append(name)
    if changed:
        db.session.commit()
    return changed


def set_password(user: User, password: str) -> None:
    """Give ``user`` this password (which ends every set-password link made before, and every
    session and remember cookie of theirs)."""
    user.set_password(password)
    user.session_version += 1
    db.session.commit()


def end_sessions(user: User) -> None:
    """End every session and remember cookie of ``user``, on every device."""
    user.session_version += 1
    db.session.commit()


def set_language(user: User, language: str) -> None:
    """The user's own language, for their pages and mails."""
    user.language = language
    db.session.commit()


def grant_level(user: User, level: Level, *, admin: User) -> bool:
    """Give ``user`` the level by hand; False when they already had it."""
    if db.session.get(UserLevel, (user.id, level.id)) is not None:
        return False
    db.session.add(
        UserLevel(
            user_id=user.id,
            level_id=level.id,
            granted_via=GrantSource.ADMIN.value,
            granted_by_id=admin.id,
        )
    )
    db.session.commit()
    return True


def revoke_level(user: User, level: Level) -> bool:
    """Take the level away; False when the user did not have it."""
    grant = db.session.get(UserLevel, (user.id, level.id))
    if grant is None:
        return False
    db.session.delete(grant)
    db.session.commit()
    return True


def grants_of(user: User) -> list[UserLevel]:
    """The user's levels with when and how each was granted, by level name."""
    return db.session.scalars(
        select(UserLevel)
        .join(UserLevel.level)
        .where(UserLevel.user_id == user.id)
        .order_by(Level.name)
    ).all()
