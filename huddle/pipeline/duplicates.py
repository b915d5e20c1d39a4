"""Addresses used twice in one file: each row after the first with the same address is
flagged on its line, pointing at the first; ``SeenAddresses`` remembers the addresses of a
long file in little memory, so that only the few rows that may repeat one are looked up."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .messages import _
from .problems import Problem
from .validating import CheckedRow


def mark_duplicates(
    rows: Iterable[CheckedRow], first_line: dict[str, int] | None = None
) -> Iterator[CheckedRow]:
    """Pass rows through, flagging each row whose address was on an earlier line.

    ``first_line`` maps addresses seen before (say, in an earlier part of a long file) to the
    line they were on; rows passing through are added to it.
    """
    first_line = {} if first_line is None else first_line
    for row in rows:
        email = row.user["email"]
        if email and not (row.problems and any(p.column == "email" for p in row.problems)):
            seen = first_line.setdefault(email, row.line)
            if seen != row.line:
                row.problems.append(
                    Problem(
                        "email",
                        _(
                            "The same e-mail address is on line %(line)s. Each user can be in "
                            "the file once: remove this line or merge the two.",
                            line=seen,
                        ),
                    )
                )
        yield row


class SeenAddresses:
    """The addresses of the rows passed so far, kept small: ``maybe_seen`` is never false for
    an address seen before, and seldom true for a new one (a Bloom filter of 64 bits an
    address, three of them set for each: about 1 in 10,000 wrongly; 8 MB at most, for a
    million rows). A "maybe" is settled by looking at the rows themselves; a "no" needs
    nothing more, which spares that look-up for almost every row."""

    MAX_BITS = 1 << 26

    def __init__(self, expected_rows: int = 1000) -> None:
        self.bits = min(1 << max(16, (expected_rows * 64).bit_length()), self.MAX_BITS)
        # Made on first use: in the process that checks the rows, which may be a helper.
        self._bits: bytearray | None = None

    def maybe_seen(self, rows: Iterable[CheckedRow]) -> list[bool]:
        """For each row, in order: might its address be on an earlier row (this batch's
        earlier rows included)? The rows are then remembered. As ``mark_duplicates``, it
        passes over rows without an address or with a problem in it; but it remembers every
        address (as stored: lower case), as the rows stored for ``first_line`` hold them all."""
        if self._bits is None:
            self._bits = bytearray(self.bits // 8)
        bits, mask, answers = self._bits, self.bits - 1, []
        for row in rows:
            email = row.user["email"]
            if not email:
                answers.append(False)
                continue
            # Three places from one hash: the first, and two steps of an odd stride on
            # (Kirsch and Mitzenmacher's double hashing; as good as three hashes).
            key = hash(email.lower())
            a, stride = key & mask, ((key >> 27) & mask) | 1
            b, c = (a + stride) & mask, (a + 2 * stride) & mask
            seen = (bits[a >> 3] >> (a & 7)) & (bits[b >> 3] >> (b & 7)) & (bits[c >> 3] >> (c & 7))
            bits[a >> 3] |= 1 << (a & 7)
            bits[b >> 3] |= 1 << (b & 7)
            bits[c >> 3] |= 1 << (c & 7)
            answers.append(bool(seen & 1) and not any(p.column == "email" for p in row.problems))
        return answers
