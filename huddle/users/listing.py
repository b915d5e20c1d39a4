"""The Users > Manage query: search, level filter, sort and pages, fast at 100,000 users.

Pages use an *indexed offset*: the page's ids are read from an index that holds the sort
columns and the id (so skipping 100,000 entries never touches the table), then only those
50 users are loaded with their levels. See ``bench/users_list_bench.py`` for the figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import selectinload

from ..bounds import MAX_PAGE, int_arg
from ..extensions import db
from ..models import User, UserLevel

SORT_COLUMNS = {
    "name": (User.last_name, User.first_name, User.id),
    "email": (User.email,),
    "created": (User.created_at, User.id),
}
SORT_CHOICES = [*SORT_COLUMNS, *(f"-{key}" for key in SORT_COLUMNS)]


def has_any_level(level_ids) -> ColumnElement[bool]:
    """The user has one of these levels: a look-up in the grants' primary key per user,
    which stays cheap when an export walks all users in batches (an ``IN (subquery)``
    would be built again for every batch)."""
    return (
        select(UserLevel.user_id)
        .where(UserLevel.user_id == User.id, UserLevel.level_id.in_(list(level_ids)))
        .exists()
    )


def _like_pattern(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class UserQuery:
    """What the admin asked for: search words, a level, a sort key (``-`` = descending), a page."""

    q: str = ""
    level_id: int | None = None
    sort: str = "name"
    page: int = 1

    @classmethod
    def from_args(cls, args) -> UserQuery:
        sort = args.get("sort", "name")
        return cls(
            q=args.get("q", "").strip()[:200],
            level_id=int_arg(args, "level", 0) or None,
            sort=sort if sort in SORT_CHOICES else "name",
            page=int_arg(args, "page", 1, high=MAX_PAGE),
        )

    def to_args(self, **changes) -> dict:
        """Query-string arguments for this query with ``changes`` applied (for links)."""
        query = replace(self, **changes)
        args = {"q": query.q, "level": query.level_id, "sort": query.sort, "page": query.page}
        defaults = {"q": "", "level": None, "sort": "name", "page": 1}
        return {key: value for key, value in args.items() if value != defaults[key]}

    def sort_toggled(self, key: str) -> str:
        """The sort for a click on column ``key``: ascending first, then flip."""
        return f"-{key}" if self.sort == key else key

    def filters(self) -> list:
        conditions = []
        # SQLite's LIKE already ignores (ASCII) case; its ILIKE emulation wraps every value in
        # lower() and is three times slower on 100,000 users. PostgreSQL needs ILIKE.
        sqlite = db.session.get_bind().dialect.name == "sqlite"
        for word in self.q.split():
            pattern = _like_pattern(word)
            conditions.append(
                or_(
                    *(
                        column.like(pattern, escape="\\")
                        if sqlite
                        else column.ilike(pattern, escape="\\")
                        for column in (User.email, User.first_name, User.infix, User.last_name)
                    )
                )
            )
        if self.level_id:
            conditions.append(has_any_level([self.level_id]))
        return conditions

    def order_by(self) -> list:
        columns = SORT_COLUMNS[self.sort.lstrip("-")]
        return [col.desc() for col in columns] if self.sort.startswith("-") else list(columns)


@dataclass(frozen=True)
class UserPage:
    """One page of the list of users, with how many match in all."""

    users: list[User]
    total: int
    page: int
    pages: int
    per_page: int

    @property
    def first_row(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last_row(self) -> int:
        return self.first_row + len(self.users) - 1 if self.users else 0


def list_users(query: UserQuery, per_page: int = 50) -> UserPage:
    """One page of users matching ``query``; a page past the end shows the last page."""
    filters = query.filters()
    if query.q:
        # A search scans the users: one pass gives the page and, as a window count, the
        # total, instead of one pass for each.
        rows = db.session.execute(
            _page_of_ids(query, filters, per_page, query.page).add_columns(func.count().over())
        ).all()
        if rows:
            total = rows[0][1]
            return _page(query.page, [row[0] for row in rows], total, per_page)
    total = _count(query, filters)
    page = min(query.page, max(math.ceil(total / per_page), 1))
    ids = db.session.scalars(_page_of_ids(query, filters, per_page, page)).all()
    return _page(page, ids, total, per_page)


def _count(query: UserQuery, filters: list) -> int:
    if query.level_id and not query.q:
        # A grant is one user (the grants' key is user and level): the level's index counts
        # them without visiting every user.
        return db.session.scalar(
            select(func.count()).select_from(UserLevel).where(UserLevel.level_id == query.level_id)
        )
    return db.session.scalar(select(func.count()).select_from(User).where(*filters)) or 0


def _page_of_ids(query: UserQuery, filters: list, per_page: int, page: int):
    return (
        select(User.id)
        .where(*filters)
        .order_by(*query.order_by())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )


def _page(page: int, ids: list[int], total: int, per_page: int) -> UserPage:
    """The page with its users loaded, levels included, in the order of ``ids``."""
    loaded = db.session.scalars(
        select(User).where(User.id.in_(ids)).options(selectinload(User.levels))
    ).all()
    by_id = {user.id: user for user in loaded}
    return UserPage(
        users=[by_id[i] for i in ids if i in by_id],
        total=total,
        page=page,
        pages=max(math.ceil(total / per_page), 1),
        per_page=per_page,
    )
