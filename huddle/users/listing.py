"""The Users > Manage query: search, level filter, sort and pages, fast at 100,000 users.

Pages use an *indexed offset*: the page's ids are read from an index that holds the sort
columns and the id (so skipping 100,000 entries never touches the table), then only those
50 users are loaded with their levels. See ``bench/users_list_bench.py`` for the figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from sqlalchemy import ColumnElement, and_, column, func, literal_column, or_, select, text
from sqlalchemy.orm import selectinload

from .. import search_index
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


SEARCHED = (User.email, User.first_name, User.infix, User.last_name)
# PostgreSQL: the searched columns as one lower-case text, kept by the database itself and
# indexed by trigrams (migration 0014). A search word holds no space, so it is in this text
# only where it is in one column.
SEARCH_TEXT = literal_column("users.search_text")
TRIGRAM = 3  # the search indexes know parts of words this long; a shorter word is scanned for
# A search counts the users it finds up to this many; beyond, the page says "more than".
COUNT_UP_TO = 1_000
# For the page of such a search, up to this many users are tested per user on the page,
# walking in the sort's order; if that does not fill it, all found are sorted.
WALKED_PER_ROW = 40


def _like_pattern(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _contains_word(word: str) -> ColumnElement[bool]:
    """SQLite: ``word`` is part of one of the searched columns, (ASCII) case ignored, found
    by reading every user. LIKE already ignores that case; the ILIKE emulation wraps every
    value in lower() and is three times slower."""
    pattern = _like_pattern(word)
    return or_(*(searched.like(pattern, escape="\\") for searched in SEARCHED))


def _in_search_index(words: list[str]) -> ColumnElement[bool]:
    """SQLite: every word is part of one of the searched columns, found in the users'
    trigram index (migration 0011) instead of by reading every user. Each word is one FTS5
    phrase in double quotes, so that no character in it is read as query syntax. Users a
    large import made a moment ago may not be indexed yet: those are read (``search_index``;
    LIKE ignores the case of A–Z only, the index that of every letter)."""
    found = text("SELECT rowid FROM users_search WHERE users_search MATCH :phrases")
    indexed = User.id.in_(found.bindparams(phrases=_phrases(words)).columns(column("rowid")))
    waiting = search_index.backlog_start()
    if waiting is None:  # the usual case: the index alone, which SQLite reads fastest
        return indexed
    return or_(indexed, and_(User.id >= waiting, *map(_contains_word, words)))


def _phrases(words: list[str]) -> str:
    return " ".join('"' + word.replace('"', '""') + '"' for word in words)


def _in_search_text(word: str) -> ColumnElement[bool]:
    """PostgreSQL: ``word`` is part of the users' search text, its case folded the way the
    text's was (by the database's ``lower``, which knows every letter). The trigram index
    serves LIKE; for a word shorter than a trigram the planner reads every user instead,
    as it sees the word (``config.engine_options``: no plans kept for any value)."""
    return SEARCH_TEXT.like(func.lower(_like_pattern(word)), escape="\\")


def _sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


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

    def filters(self, *, by_index: bool = True) -> list:
        """The conditions on users: every search word in one of the searched columns (any
        part of it, case ignored), and the level. ``by_index=False``: tested on each user
        read (SQLite), for a walk that stops at a page's users; but for words with letters
        beyond ASCII, whose case only the index ignores (LIKE knows A–Z only)."""
        words = self.q.split()
        if not _sqlite():
            conditions = [_in_search_text(word) for word in words]
        else:
            long_words = [
                word for word in words if len(word) >= TRIGRAM and (by_index or not word.isascii())
            ]
            conditions = [_contains_word(word) for word in words if word not in long_words]
            if long_words:
                conditions.append(_in_search_index(long_words))
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
    total: int  # with ``more``: only a bound (COUNT_UP_TO); more match
    page: int
    pages: int  # with ``more``: the pages counted so far; more follow
    per_page: int
    more: bool = False

    @property
    def first_row(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last_row(self) -> int:
        return self.first_row + len(self.users) - 1 if self.users else 0


def list_users(query: UserQuery, per_page: int = 50) -> UserPage:
    """One page of users matching ``query``; a page past the end shows the last page. A
    search that finds more than COUNT_UP_TO users says so (``UserPage.more``) instead of
    counting them all."""
    if query.q:
        _trust_the_search_index()
    filters = query.filters()
    total = _count(query, filters)
    more = total > COUNT_UP_TO
    if more:
        page, total = query.page, COUNT_UP_TO
    else:
        page = min(query.page, max(math.ceil(total / per_page), 1))
    if not total:
        ids = []
    elif more:
        ids = _page_of_many(query, per_page, page)
        if not ids:
            # Past the end of what matches (a page asked for in the address): the last page,
            # which needs every match counted, once.
            total = db.session.scalar(select(func.count()).select_from(User).where(*filters))
            page = max(math.ceil(total / per_page), 1)
            ids = _page_of_many(query, per_page, page)
        if len(ids) < per_page:  # the last page: now the count is known
            more, total = False, (page - 1) * per_page + len(ids)
    elif query.q and not _found_many(total):
        ids = db.session.scalars(_page_of_found(query, filters, per_page, page)).all()
    else:
        filters = query.filters(by_index=False) if query.q else filters
        ids = db.session.scalars(_page_of_ids(query, filters, per_page, page)).all()
    return _page(page, ids, total, per_page, more=more)


def _page_of_many(query: UserQuery, per_page: int, page: int) -> list[int]:
    """A page of a search that found more than COUNT_UP_TO users. A word that many users
    have is mostly one that users of every kind have (a part of the mail domain, a common
    first name), so the page is looked for among the first users in the sort's order, as
    many as it would take if 1 in WALKED_PER_ROW had the word, testing each. When that does
    not fill it (a last name, sorted by name, comes further on), every user found is sorted.
    At 1,000,000 users: "example.org" 4 ms; "jansen" (20,898 found) 33 ms, where walking on
    in name order passed 400,000 users first (391 ms)."""
    walk = query.filters(by_index=False)
    if all(len(word) < TRIGRAM for word in query.q.split()):
        # No word is in the search indexes: sorting all found would read every user first,
        # where a walk stops at the page.
        return db.session.scalars(_page_of_ids(query, walk, per_page, page)).all()
    walked = page * per_page * WALKED_PER_ROW
    head = select(User.id).order_by(*query.order_by()).limit(walked).subquery("head")
    ids = db.session.scalars(
        select(User.id)
        .join(head, head.c.id == User.id)
        .where(*walk)
        .order_by(*query.order_by())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    if len(ids) == per_page:
        return ids
    return db.session.scalars(_page_of_found(query, query.filters(), per_page, page)).all()


def _trust_the_search_index() -> None:
    """PostgreSQL: for the rest of this transaction, plan as if the users and their search
    index were in memory, as they are for a search (it reads them again and again). The
    default cost of a page read out of order, four times one in order, is a spinning disk's:
    with it the planner reads every user for a word only 2,000 of 100,000 have (14 ms) rather
    than take them from the trigram index (5 ms). ``SET LOCAL`` leaves other work be."""
    if not _sqlite():
        db.session.execute(text("SET LOCAL random_page_cost = 1.1"))


def _found_many(total: int) -> bool:
    """Whether a search found so many users that its page is fastest found by walking the
    users in the sort's order, testing each, until the page is full; else by taking all it
    found and sorting them. Sorting handles every user found. The walk passes every user
    not found that sorts before the page, and those can come first (a search for a last
    name, sorted by name, passes all names before it): at worst all users not found. So the
    walk wins for sure only where more than half the users were found. (The most recent id
    stands in for the number of users: it is read at once.)"""
    users = db.session.scalar(select(func.max(User.id))) or 0
    return 2 * total > users


def _count(query: UserQuery, filters: list) -> int:
    """How many users match; for a search, up to COUNT_UP_TO + 1 only: a word most users
    have (a part of the mail domain) would otherwise be counted through every user, 200 ms
    at 1,000,000 users, for a figure nobody reads to the last digit."""
    if query.level_id and not query.q:
        # A grant is one user (the grants' key is user and level): the level's index counts
        # them without visiting every user.
        return db.session.scalar(
            select(func.count()).select_from(UserLevel).where(UserLevel.level_id == query.level_id)
        )
    words = query.q.split()
    if (
        words
        and not query.level_id
        and _sqlite()
        and min(map(len, words)) >= TRIGRAM
        and search_index.backlog_start() is None
    ):
        # Every word is looked up in the search index, which knows every user, and nothing
        # else is asked: it counts alone, without the set of ids that ``users.id IN (…)``
        # builds to visit each user (a word all 100,000 users have: 21 ms instead of 33;
        # 2,000 of them: 0.2 ms, not 1.6).
        counted = text(
            "SELECT count(*) FROM"
            " (SELECT 1 FROM users_search WHERE users_search MATCH :phrases LIMIT :bound)"
        )
        return db.session.scalar(counted, {"phrases": _phrases(words), "bound": COUNT_UP_TO + 1})
    if not query.q:
        return db.session.scalar(select(func.count()).select_from(User).where(*filters)) or 0
    found = select(User.id).where(*filters).limit(COUNT_UP_TO + 1).subquery()
    return db.session.scalar(select(func.count()).select_from(found)) or 0


def _page_of_ids(query: UserQuery, filters: list, per_page: int, page: int):
    return (
        select(User.id)
        .where(*filters)
        .order_by(*query.order_by())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )


def _page_of_found(query: UserQuery, filters: list, per_page: int, page: int):
    """A page of a search that found few users: those found first (by the search indexes),
    then sorted. Not one query that sorts and filters at once: a planner would walk the
    users in name order through the sort's index, testing each, to stop at the page's 50,
    and that reads nearly all of them when the words are rare (PostgreSQL: 146 ms instead
    of 26 on 100,000 users). MATERIALIZED keeps the two steps."""
    sort_columns = SORT_COLUMNS[query.sort.lstrip("-")]
    wanted = list(dict.fromkeys((User.id, *sort_columns)))
    found = select(*wanted).where(*filters).cte("found").prefix_with("MATERIALIZED")
    order = [found.c[column.key] for column in sort_columns]
    if query.sort.startswith("-"):
        order = [column.desc() for column in order]
    return select(found.c.id).order_by(*order).limit(per_page).offset((page - 1) * per_page)


def _page(page: int, ids: list[int], total: int, per_page: int, *, more: bool) -> UserPage:
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
        more=more,
    )
