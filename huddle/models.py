"""The database: users, access levels and which user has which level since when."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .csvio.columns import MAX_LENGTH
from .extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def normalise_email(email: str) -> str:
    """The form an address is stored and compared in: trimmed and lower-case."""
    return email.strip().lower()


class GrantSource(enum.StrEnum):
    """What gave a user a level: an admin by hand, or an import."""

    ADMIN = "admin"
    IMPORT = "import"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(MAX_LENGTH["email"]), unique=True)
    first_name: Mapped[str] = mapped_column(String(MAX_LENGTH["first_name"]))
    infix: Mapped[str] = mapped_column(String(MAX_LENGTH["infix"]), default="")
    last_name: Mapped[str] = mapped_column(String(MAX_LENGTH["last_name"]))
    phone: Mapped[str] = mapped_column(String(MAX_LENGTH["phone"]), default="")
    organisation: Mapped[str] = mapped_column(String(MAX_LENGTH["organisation"]), default="")
    job_title: Mapped[str] = mapped_column(String(MAX_LENGTH["job_title"]), default="")
    language: Mapped[str] = mapped_column(String(MAX_LENGTH["language"]), default="")
    is_admin: Mapped[bool] = mapped_column(default=False)
    # Empty until the user sets a password through a set-password link.
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    level_grants: Mapped[list[UserLevel]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="UserLevel.granted_at"
    )
    levels: Mapped[list[Level]] = relationship(
        secondary="user_levels", viewonly=True, order_by="Level.name"
    )

    __table_args__ = (
        # Sorting the users list by name walks this index; it also covers the id (see users/).
        Index("ix_users_name_order", "last_name", "first_name", "id"),
        Index("ix_users_created_order", "created_at", "id"),
    )

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.infix, self.last_name) if part)

    @property
    def has_password(self) -> bool:
        return bool(self.password_hash)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


# Addresses are stored normalised; this makes the database itself refuse a second
# "Jan@X.nl" next to "jan@x.nl" even if some code path forgot to normalise.
Index("uq_users_email_lower", func.lower(User.email), unique=True)


class Level(db.Model):
    __tablename__ = "levels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    grants: Mapped[list[UserLevel]] = relationship(
        back_populates="level", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Level {self.name}>"


class UserLevel(db.Model):
    """A user has a level: granted when, and by what (an admin by hand, or an import)."""

    __tablename__ = "user_levels"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    level_id: Mapped[int] = mapped_column(
        ForeignKey("levels.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    granted_via: Mapped[str] = mapped_column(String(10), default=GrantSource.ADMIN.value)
    # The admin's user id when granted by hand, the import's id when granted by an import.
    granted_by_id: Mapped[int | None]

    user: Mapped[User] = relationship(back_populates="level_grants")
    level: Mapped[Level] = relationship(back_populates="grants")
