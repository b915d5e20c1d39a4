"""A workbook cell's value as the text the admin saw in the spreadsheet program."""

from __future__ import annotations

import datetime
import re

# Excel writes characters XML cannot hold as "_xHHHH_" (ECMA-376 Part 1, §22.9.2.19 ST_Xstring).
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


def cell_text(value, number_format: str = "") -> str:
    """A cell's value as the text the spreadsheet shows for it: a whole number without ".0"
    or an exponent (a phone number typed as a number is 31612345678, not 3.16123456E10), in
    its padding format when it has one (``whole_number``); dates as 2026-11-25."""
    if value is None:
        return ""
    if isinstance(value, str):
        return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), value) if "_x" in value else value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        if isinstance(value, float) and not value.is_integer():
            return repr(value)
        return whole_number(int(value), number_format)
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):  # a duration ("[h]:mm")
        return str(value)
    return str(value)


# A number format that only pads a whole number and puts text around it, as used for phone
# numbers: "0000000000", "0#########", "+0", "\\+00", "\"+31 \"0". Its parts: literal text
# (quoted, escaped with a backslash, or one of "+-() "), then digit places, then text.
_LITERAL = r'(?:"[^"]*"|\\.|[+\-() ])*'
_PADDING_FORMAT = re.compile(rf"({_LITERAL})([0#]+)({_LITERAL})")
_QUOTED_OR_ESCAPED = re.compile(r'"([^"]*)"|\\(.)')


def is_padding_format(number_format: str) -> bool:
    """Whether a number format shows whole numbers other than as their digits."""
    section = number_format.split(";")[0]
    return section not in ("", "0", "General") and bool(_PADDING_FORMAT.fullmatch(section))


def whole_number(number: int, number_format: str) -> str:
    """A whole number as Excel shows it in a padding format (the leading zero and the "+" of
    a phone number), else its digits."""
    text = str(number)
    section = (number_format or "").split(";")[0]  # the format for positive numbers
    match = _PADDING_FORMAT.fullmatch(section) if number >= 0 else None
    if match is None:
        return text
    before, places, after = match.groups()
    # Digits fill the places from the right; every place from the leftmost "0" on shows one.
    text = text.zfill(len(places) - places.index("0") if "0" in places else 0)
    return _literal(before) + text + _literal(after)


def _literal(part: str) -> str:
    return _QUOTED_OR_ESCAPED.sub(lambda m: m.group(1) or m.group(2) or "", part)
