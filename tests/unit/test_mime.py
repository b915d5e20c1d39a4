"""The mail writer: what it writes is read back whole by the standard library's parser (as a
mail program reads it), with every line within the limits mail servers hold to.

The limits: RFC 5322 2.1.1 (a line at most 998 characters, and should be 78), RFC 2045 6.7
(quoted-printable lines at most 76), RFC 2047 2 (an encoded word at most 75).
"""

from __future__ import annotations

import email
import email.policy

import pytest

from huddle.mime import Attachment, HeaderInjection, message_bytes

LONG_LINK = "https://huddle.example/set-password/" + "x" * 200


def _write(**overrides) -> bytes:
    values = {
        "sender": "Huddle <no-reply@huddle.example>",
        "to": "an@example.nl",
        "subject": "Welkom bij Huddle: kies je wachtwoord",
        "text": f"Hallo Zoë,\n\nKies je wachtwoord:\n\n{LONG_LINK}\n\n.\nHuddle\n",
        "html": f'<p>Hallo Zoë,</p><p><a href="{LONG_LINK}">Kies</a></p>',
        "date": "Fri, 04 Dec 2026 10:00:00 +0100",
        "message_id": "<1.2@huddle.example>",
    }
    return message_bytes(**{**values, **overrides})


def _read(data: bytes):
    # Lines as a mail program reads them, whatever their ends were on the wire.
    return email.message_from_bytes(data.replace(b"\r\n", b"\n"), policy=email.policy.default)


def test_a_mail_reads_back_whole_with_short_crlf_lines():
    data = _write()
    message = _read(data)
    assert message["To"] == "an@example.nl"
    assert message["From"].addresses[0].addr_spec == "no-reply@huddle.example"
    assert message["Subject"] == "Welkom bij Huddle: kies je wachtwoord"
    assert message.get_body(("plain",)).get_content() == (
        f"Hallo Zoë,\n\nKies je wachtwoord:\n\n{LONG_LINK}\n\n.\nHuddle\n"
    )
    assert LONG_LINK in message.get_body(("html",)).get_content()
    lines = data.split(b"\r\n")
    assert b"\n" not in b"".join(lines), "every line ends in CRLF"
    assert max(len(line) for line in lines) <= 76


@pytest.mark.parametrize(
    "subject",
    [
        "Import mislukt: leden-ÄÖÜ-" + "é" * 60 + ".csv",  # long, beyond ASCII: several words
        "Import finished: =?utf-8?q?not-a-word?= .csv",  # looks like an encoded word
        "Import finished: " + "a" * 90,  # plain but too long for one line
    ],
)
def test_any_subject_reads_back_as_it_was(subject):
    data = _write(subject=subject)
    assert _read(data)["Subject"] == subject
    head = data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    assert max(len(line) for line in head) <= 78


@pytest.mark.parametrize("field", ["to", "subject"])
def test_a_line_break_in_a_header_is_refused(field):
    with pytest.raises(HeaderInjection):
        _write(**{field: "an@example.nl\r\nBcc: all@example.nl"})


def test_attachments_read_back_byte_for_byte():
    rows = b"email;error\r\nbram@x;geen @\r\n" * 500
    data = _write(
        attachments=[
            Attachment("problem-rows-ab12.csv", "text/csv", rows),
            Attachment("ledenlijst-één.xlsx", "application/octet-stream", bytes(range(256))),
        ]
    )
    message = _read(data)
    parts = list(message.iter_attachments())
    assert [part.get_filename() for part in parts] == [
        "problem-rows-ab12.csv",
        "ledenlijst-één.xlsx",
    ]
    assert parts[0].get_payload(decode=True) == rows
    assert parts[1].get_payload(decode=True) == bytes(range(256))
    assert "Hallo Zoë" in message.get_body(("plain",)).get_content()
    assert max(len(line) for line in data.split(b"\r\n")) <= 78
