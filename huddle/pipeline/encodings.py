"""Which encoding a text file is in: UTF-8 (with or without BOM), UTF-16 (with BOM), or one of
the single-byte encodings Excel and Numbers write (Windows-1252, Mac Roman).

A BOM or valid UTF-8 settles it. Anything else is judged by charset-normalizer between the
single-byte candidates, on the lines that have non-ASCII bytes (the only ones that differ);
when it cannot tell them apart, the result says so, and the admin sees the names as read
and can choose another encoding.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import charset_normalizer

# What the admin can choose from, codec → name shown.
ENCODINGS = {
    "utf-8": "UTF-8",
    "utf-16": "UTF-16",
    "cp1252": "Windows-1252",
    "mac_roman": "Mac Roman",
    "iso8859_15": "ISO-8859-15",
}
SINGLE_BYTE = ("cp1252", "mac_roman")
SAMPLE_BYTES = 64 * 1024
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_LINE_END = re.compile(rb"[\r\n]")


@dataclass(frozen=True)
class Encoding:
    """A text file's encoding: its codec, its name for people, and how sure we are."""

    codec: str  # for Python's codecs ("utf-8-sig", "cp1252", …)
    name: str  # for people ("UTF-8", "Windows-1252", …)
    certain: bool = True


def is_utf8(data: bytes, chunk: int = 1 << 20) -> bool:
    """Whether ``data`` is valid UTF-8, checked a chunk at a time (no copy of the text)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(data), chunk):
            decoder.decode(data[start : start + chunk])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _sample(data: bytes) -> bytes:
    """Up to SAMPLE_BYTES of the lines that have non-ASCII bytes.

    Found from each non-ASCII byte out to its line's ends, in one pass: a pattern for "a line
    with such a byte" backtracks over every long line without one (quadratic time)."""
    lines, size, position = [], 0, 0
    while size < SAMPLE_BYTES:
        found = _NON_ASCII.search(data, position)
        if found is None:
            break
        start = max(data.rfind(b"\n", 0, found.start()), data.rfind(b"\r", 0, found.start())) + 1
        end_match = _LINE_END.search(data, found.start())
        position = end_match.start() if end_match else len(data)
        lines.append(data[start:position])
        size += len(lines[-1]) + 1
    return b"\n".join(lines)


def detect_encoding(data: bytes, chosen: str | None = None) -> Encoding:
    """The encoding of ``data``, or ``chosen`` (a key of ENCODINGS) when the admin picked one."""
    if chosen in ENCODINGS:
        codec = "utf-8-sig" if chosen == "utf-8" else chosen
        return Encoding(codec, ENCODINGS[chosen])
    if data.startswith(b"\xef\xbb\xbf"):
        return Encoding("utf-8-sig", "UTF-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Encoding("utf-16", "UTF-16")
    if is_utf8(data):
        return Encoding("utf-8", "UTF-8")
    return _single_byte(_sample(data))


def _familiar(text: str) -> int:
    """How many characters of ``text`` are accented letters (or the typographic apostrophe)
    that names in Western Europe use: many when the encoding is right, few when it is not."""
    return sum(1 for char in text if char in _FAMILIAR)


_FAMILIAR = frozenset("áàâäãåçéèêëíìîïñóòôöõøúùûüýÿæœßÁÀÂÄÃÅÇÉÈÊËÍÌÎÏÑÓÒÔÖÕØÚÙÛÜÆŒ’")


def _single_byte(sample: bytes) -> Encoding:
    results = {
        m.encoding: m.chaos
        for m in charset_normalizer.from_bytes(sample, cp_isolation=list(SINGLE_BYTE))
    }
    familiar = {codec: _familiar(sample.decode(codec, errors="replace")) for codec in SINGLE_BYTE}
    # Fewer oddities first (charset-normalizer's "chaos"), then more familiar letters;
    # Windows-1252 wins a tie, being by far the most common.
    ranked = sorted(
        SINGLE_BYTE,
        key=lambda codec: (round(results.get(codec, 1.0), 2), -familiar[codec], codec != "cp1252"),
    )
    best, other = ranked
    non_ascii = sum(1 for byte in sample if byte > 127) or 1
    clear_chaos = results.get(other, 1.0) - results.get(best, 1.0) > 0.02
    clear_letters = (familiar[best] - familiar[other]) / non_ascii >= 0.2
    return Encoding(best, ENCODINGS[best], certain=clear_chaos or clear_letters)
