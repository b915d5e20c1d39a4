"""A mail as the bytes that go over the wire (RFC 5322 with MIME, RFC 2045–2047), written
directly: plain text and HTML as alternatives, attachments beside them.

The standard library's ``email`` package builds a tree of objects and then folds every header
it wrote through its own parser, which cost more than rendering and sending the mail together
(about 1.5 ms a mail). A welcome mail has a fixed shape, so this writes that shape at once;
the pieces that need care are done by the C codecs (``binascii``): bodies as quoted-printable
UTF-8, attachments as base64, a non-ASCII subject as encoded words. Plain Python, no Flask.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import formataddr, parseaddr
from functools import lru_cache
from urllib.parse import quote

# A subject line stays under 78 characters (RFC 5322 2.1.1); an encoded word under 75
# (RFC 2047 2): 42 bytes of UTF-8 make 56 characters of base64, 68 with ``=?utf-8?b?…?=``,
# 77 after "Subject: ".
_PLAIN_SUBJECT_MAX = 68
_WORD_BYTES = 42


class HeaderInjection(ValueError):
    """A header value (an address, a subject) holds a line break."""


@dataclass(frozen=True)
class Attachment:
    """A file attached to a mail."""

    filename: str
    media_type: str
    data: bytes


def message_bytes(
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    html: str,
    date: str,
    message_id: str,
    attachments: Iterable[Attachment] = (),
) -> bytes:
    """The whole mail, lines ending in CRLF, every line under 78 characters but the From
    line of a very long sender name. ``to`` is one ASCII address (an address beyond ASCII
    needs SMTPUTF8 and the standard library's writer). Raises ``HeaderInjection`` when
    ``to`` or ``subject`` holds a line break."""
    if _has_line_break(to) or _has_line_break(subject):
        raise HeaderInjection("A mail header holds a line break.")
    attachments = list(attachments)
    alternative = _boundary()
    body = [
        _multipart_head("alternative", alternative),
        b"",
        b"--" + alternative,
        b'Content-Type: text/plain; charset="utf-8"',
        b"Content-Transfer-Encoding: quoted-printable",
        b"",
        quoted_printable(text),
        b"--" + alternative,
        b'Content-Type: text/html; charset="utf-8"',
        b"Content-Transfer-Encoding: quoted-printable",
        b"",
        quoted_printable(html),
        b"--" + alternative + b"--",
    ]
    if attachments:
        mixed = _boundary()
        body = [_multipart_head("mixed", mixed), b"", b"--" + mixed, *body]
        for part in attachments:
            body += [b"--" + mixed, *_attachment(part)]
        body.append(b"--" + mixed + b"--")
    head = [
        b"From: " + from_header(sender),
        b"To: " + to.encode("ascii"),
        b"Subject: " + subject_header(subject),
        b"Date: " + date.encode("ascii"),
        b"Message-ID: " + message_id.encode("ascii"),
        b"MIME-Version: 1.0",
    ]
    return b"\r\n".join(head + body) + b"\r\n"


@lru_cache(maxsize=8)
def from_header(sender: str) -> bytes:
    """The From header's value for ``sender`` ("Huddle <no-reply@…>"), its name encoded when
    it is not ASCII. The same for every mail, so made once."""
    return formataddr(parseaddr(sender), charset="utf-8").encode("ascii")


def subject_header(subject: str) -> bytes:
    """``subject`` as a header value: as it is when it is short printable ASCII, else as
    UTF-8 encoded words, one per folded line (RFC 2047)."""
    if (
        subject.isascii()
        and subject.isprintable()
        and len(subject) <= _PLAIN_SUBJECT_MAX
        and "=?" not in subject
    ):
        return subject.encode("ascii")
    words = []
    chunk = b""
    for char in subject:  # split between characters, never inside one
        encoded = char.encode("utf-8")
        if len(chunk) + len(encoded) > _WORD_BYTES:
            words.append(chunk)
            chunk = b""
        chunk += encoded
    words.append(chunk)
    return b"\r\n ".join(b"=?utf-8?b?" + base64.b64encode(word) + b"?=" for word in words)


def quoted_printable(text: str) -> bytes:
    """``text`` as quoted-printable UTF-8 with CRLF line ends: readable where it is ASCII,
    and no line over 76 characters (a long link in plain text would make one over the 998
    a server takes)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return binascii.b2a_qp(text.encode("utf-8"), istext=True).replace(b"\n", b"\r\n")


def _attachment(part: Attachment) -> list[bytes]:
    # RFC 2231 for a file name beyond ASCII; a plain quoted one otherwise.
    name = part.filename.replace("\\", "_").replace('"', "_")
    if name.isascii() and name.isprintable():
        disposition = f'attachment;\r\n filename="{name}"'
    else:
        disposition = f"attachment;\r\n filename*=utf-8''{quote(name, safe='')}"
    return [
        b"Content-Type: " + part.media_type.encode("ascii"),
        b"Content-Transfer-Encoding: base64",
        b"Content-Disposition: " + disposition.encode("ascii"),
        b"",
        base64.encodebytes(part.data).replace(b"\n", b"\r\n").rstrip(b"\r\n"),
    ]


def _multipart_head(kind: str, boundary: bytes) -> bytes:
    return b"Content-Type: multipart/" + kind.encode() + b'; boundary="' + boundary + b'"'


def _boundary() -> bytes:
    # "=_" never occurs in quoted-printable ("=" starts a hex pair or a soft line break)
    # nor in base64, so no body can contain the boundary.
    return b"=_" + secrets.token_hex(12).encode("ascii")


def _has_line_break(value: str) -> bool:
    return "\n" in value or "\r" in value
