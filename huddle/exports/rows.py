"""The users of a selection as rows in the template's columns, read in batches."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from sqlalchemy import select

from ..bulk import fetch_all
from ..models import Level, User, UserLevel
from ..pipeline.columns import LEVEL_SEPARATOR, USER_COLUMNS
from .selection import filters

BATCH_SIZE = 5000
_COLUMNS = [getattr(User, name) for name in USER_COLUMNS]


def iter_rows(selection: dict, batch_size: int = BATCH_SIZE) -> Iterator[tuple[str, ...]]:
    """Every selected user as (email, first_name, …, language, levels), oldest first.

    Batches walk the primary key (``id > last``), so each is an index range however far the
    export has got, and memory holds one batch, not the whole export. Each batch's levels
    come from one range query on the level grants' primary key; names sorted, joined by "|".
    """
    names = dict(fetch_all(select(Level.id, Level.name)))
    conditions = filters(selection)
    last_id = 0
    while True:
        batch = fetch_all(
            select(User.id, *_COLUMNS)
            .where(*conditions, User.id > last_id)
            .order_by(User.id)
            .limit(batch_size)
        )
        if not batch:
            return
        first_id, last_id = batch[0][0], batch[-1][0]
        levels: dict[int, list[str]] = defaultdict(list)
        grants = select(UserLevel.user_id, UserLevel.level_id).where(
            UserLevel.user_id.between(first_id, last_id)
        )
        for user_id, level_id in fetch_all(grants):
            levels[user_id].append(names[level_id])
        for user_id, *values in batch:
            held = levels.get(user_id)
            yield (*values, LEVEL_SEPARATOR.join(sorted(held)) if held else "")
        if len(batch) < batch_size:
            return
