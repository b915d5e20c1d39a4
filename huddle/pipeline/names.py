"""A full name in one cell ("Jan van der Berg", "Berg, Jan van der") split into the
template's first name, infix and last name, the way Dutch names are written."""

from __future__ import annotations

# The words a Dutch (or Flemish, French, German…) last name may start with, which the
# template keeps apart as the infix ("tussenvoegsel"). Several may follow each other: "van
# der", "van 't", "in het".
# fmt: off
INFIX_WORDS = frozenset((
    "van", "von", "vom", "de", "der", "den", "des", "het", "'t", "’t", "t", "te", "ten", "ter",
    "in", "op", "aan", "bij", "onder", "over", "uit", "voor", "la", "le", "les", "du", "da",
    "di", "del", "della", "dos", "das", "zu", "zum", "zur", "l'", "d'",
))
# fmt: on


def _is_infix(word: str) -> bool:
    return word.lower() in INFIX_WORDS


def split_name(full: str) -> tuple[str, str, str]:
    """(first name, infix, last name) of a full name.

    "Jan van der Berg" → ("Jan", "van der", "Berg"); "Jan Willem de Vries" → ("Jan Willem",
    "de", "Vries"); "Berg, Jan van der" (sorted by last name) → ("Jan", "van der", "Berg");
    without an infix the last word is the last name: "Anna Maria Smit" → ("Anna Maria", "",
    "Smit"); one word is a first name only."""
    full = " ".join(full.split())
    if not full:
        return "", "", ""
    if "," in full:
        last, _comma, rest = full.partition(",")
        words = rest.split()
        cut = len(words)
        while cut > 0 and _is_infix(words[cut - 1]):
            cut -= 1
        return " ".join(words[:cut]), " ".join(words[cut:]), last.strip()
    words = full.split()
    if len(words) == 1:
        return words[0], "", ""
    # The infix is the first run of infix words after the first name that still leaves a
    # last name after it.
    for start in range(1, len(words) - 1):
        if _is_infix(words[start]):
            end = start
            while end < len(words) - 1 and _is_infix(words[end]):
                end += 1
            return " ".join(words[:start]), " ".join(words[start:end]), " ".join(words[end:])
    return " ".join(words[:-1]), "", words[-1]
