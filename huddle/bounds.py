"""The ranges numbers from a request are held to before they reach the database: ids a BIGINT
holds, page numbers whose OFFSET still fits. Out of range is as if not given."""

from __future__ import annotations

# The largest id a BIGINT holds (PostgreSQL and SQLite alike).
MAX_ID = 2**63 - 1
# The largest page number: far past any list, and times a page size still an OFFSET.
MAX_PAGE = 10**9


def int_arg(args, name: str, default: int, *, low: int = 1, high: int = MAX_ID) -> int:
    """The whole number ``args[name]`` when it is one from ``low`` to ``high``, else
    ``default`` (missing, text, or out of range: as if it had not been given)."""
    value = args.get(name, "")
    if not (value.isascii() and value.isdigit()) or len(value) > 19:
        return default
    number = int(value)
    return number if low <= number <= high else default


def is_id(value: str) -> bool:
    """Whether ``value`` is a whole number a database id can be."""
    return value.isascii() and value.isdigit() and len(value) <= 19 and int(value) <= MAX_ID
