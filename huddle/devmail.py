"""The dev mail sink: a real SMTP server on loopback that keeps every message for the Outbox.

Used by ``flask dev`` (``make run``) when no ``MAIL_SERVER`` is set, and by the tests. Each
message is written as one ``.eml`` file, so the web process can list what the sink received.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from email.parser import BytesHeaderParser
from pathlib import Path

from aiosmtpd.controller import Controller

_MESSAGE_ID = re.compile(r"^[0-9]+-[0-9a-f]{32}$")


class OutboxHandler:
    """aiosmtpd handler: stores each message it is handed as ``<time>-<uuid>.eml``."""

    def __init__(self, outbox_dir: str | Path):
        self.outbox_dir = Path(outbox_dir)
        self.outbox_dir.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        name = f"{time.time_ns()}-{uuid.uuid4().hex}"
        tmp = self.outbox_dir / f".{name}.tmp"
        tmp.write_bytes(envelope.original_content or envelope.content)
        os.replace(tmp, self.outbox_dir / f"{name}.eml")  # readers never see half a file
        return "250 Message accepted for delivery"


def start_sink(
    outbox_dir: str | Path, host: str = "127.0.0.1", port: int = 8025, *, smtputf8: bool = True
) -> Controller:
    """Start the sink in a background thread; call ``.stop()`` on the result to end it. It
    offers SMTPUTF8 (addresses like müller@…), as most mail servers do, unless told not to."""
    controller = Controller(
        OutboxHandler(outbox_dir), hostname=host, port=port, enable_SMTPUTF8=smtputf8
    )
    controller.start()
    return controller


@dataclass
class OutboxMessage:
    """A message the sink received, as the Outbox shows it."""

    id: str
    received_at: datetime
    subject: str
    sender: str
    to: str
    text: str
    html: str
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)


def _parse(path: Path) -> OutboxMessage:
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    text_part = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))
    attachments = [
        (
            part.get_filename() or "attachment",
            part.get_content_type(),
            part.get_payload(decode=True),
        )
        for part in msg.iter_attachments()
    ]
    return OutboxMessage(
        id=path.stem,
        received_at=datetime.fromtimestamp(int(path.stem.split("-")[0]) / 1e9),
        subject=str(msg.get("Subject", "")),
        sender=str(msg.get("From", "")),
        to=str(msg.get("To", "")),
        text=text_part.get_content() if text_part else "",
        html=html_part.get_content() if html_part else "",
        attachments=attachments,
    )


@dataclass(frozen=True)
class OutboxEntry:
    """A message the sink received, as the Outbox lists it: its headers only."""

    id: str
    received_at: datetime
    to: str
    subject: str
    message_id: str


# Entries already read, by outbox folder and file name: a file never changes once written,
# so each is read once however often the Outbox is searched or paged.
_entries: dict[Path, dict[str, OutboxEntry]] = {}


def list_entries(outbox_dir: str | Path) -> list[OutboxEntry]:
    """Every message the sink received, newest first, by its headers (read once a file)."""
    folder = Path(outbox_dir)
    if not folder.is_dir():
        return []
    known = _entries.setdefault(folder, {})
    names = sorted((path.name for path in folder.glob("*.eml")), reverse=True)
    entries = [known.get(name) or _read_entry(folder / name) for name in names]
    _entries[folder] = {entry.id + ".eml": entry for entry in entries}
    return entries


def _read_entry(path: Path) -> OutboxEntry:
    with path.open("rb") as file:
        headers = BytesHeaderParser(policy=email.policy.default).parse(file)
    return OutboxEntry(
        id=path.stem,
        received_at=datetime.fromtimestamp(int(path.stem.split("-")[0]) / 1e9),
        to=str(headers.get("To", "")),
        subject=str(headers.get("Subject", "")),
        message_id=str(headers.get("Message-ID", "")).strip(),
    )


def list_messages(outbox_dir: str | Path, limit: int = 200) -> list[OutboxMessage]:
    """The newest ``limit`` messages the sink received, newest first."""
    folder = Path(outbox_dir)
    if not folder.is_dir():
        return []
    paths = sorted(folder.glob("*.eml"), reverse=True)[:limit]
    return [_parse(path) for path in paths]


def get_message(outbox_dir: str | Path, message_id: str) -> OutboxMessage | None:
    """One message by id; ids are checked against their pattern, never used as a raw path."""
    if not _MESSAGE_ID.match(message_id):
        return None
    path = Path(outbox_dir) / f"{message_id}.eml"
    return _parse(path) if path.is_file() else None


def clear(outbox_dir: str | Path) -> int:
    """Delete every stored message; returns how many there were."""
    paths = list(Path(outbox_dir).glob("*.eml"))
    for path in paths:
        path.unlink(missing_ok=True)
    return len(paths)
