"""The users of a selection as rows in the template's columns, read in batches."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from sqlalchemy import select

from ..csvio.columns import LEVEL_SEPARATOR, USER_COLUMNS
from ..extensions import db
from ..models import Level, User, UserLevel
from .selection import filters

BATCH_SIZE = 5000
_COLUMNS = [getattr(User, name) for name in USER_COLUMNS]


def iter_rows(selection: dict, batch_size: int = BATCH_SIZE) -> Iterator[tuple[str, ...]]:
    """Every selected user as (email, first_name, …, language, levels), oldest first.

    Batches walk the primary key (``id > last``), so each is an index range however far the
    export has got, and memory holds one batch, not the whole export. Levels come with one
    range query per batch, names sorted and joined with "|".
    """
    conditions = filters(selection)
    last_id = 0
    while True:
        batch = db.session.execute(
            select(User.id, *_COLUMNS)
            .where(*conditions, User.id > last_id)
            .order_by(User.id)
            .limit(batch_size)
        ).all()
        if not batch:
            return
        first_id, last_id = batch[0][0], batch[-1][0]
        levels: dict[int, list[str]] = defaultdict(list)
        for user_id, name in db.session.execute(
            select(UserLevel.user_id, Level.name)
            .join(Level, Level.id == UserLevel.level_id)
            .where(UserLevel.user_id.between(first_id, last_id))
            .order_by(UserLevel.user_id, Level.name)
        ):
            levels[user_id].append(name)
        for user_id, *values in batch:
            yield (*values, LEVEL_SEPARATOR.join(levels.get(user_id, ())))
        if len(batch) < batch_size:
            return
