"""Mail speed: how many welcome mails a second the app's one sender gets to a mail server on
loopback, next to a plain ``smtplib`` loop sending the very same messages over one connection.

  (a) ours: ``huddle.mail.send`` over N welcome letters, each composed, rendered (text and
      HTML, in the reader's language) and sent, as the mail job does (without the database)
  (b) the floor: the same N messages, rendered beforehand, handed to one ``smtplib.SMTP``
      connection with ``sendmail`` (no composing, no rendering, no per-mail bookkeeping)

  (c) the mail job: ``jobs.send_import_mails`` over N welcome mails an import owes, with
      what (a) leaves out: each mail claimed, marked "sending" and "sent" in the database
      (SQLite), its user and levels read, its set-password link signed

and prints mails/s of each and the ratios (b)/(a) and (b)/(c). The server is aiosmtpd with a
handler that
accepts and keeps nothing, so that the figures are the client's.

    .venv/bin/python bench/mail_bench.py [--mails 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import smtplib
import socket
import sys
import tempfile
import time
from email.utils import parseaddr
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class Discard:
    """An SMTP handler that accepts every mail and keeps none."""

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _app(instance: Path, port: int):
    os.environ["HUDDLE_INSTANCE_PATH"] = str(instance)
    from huddle import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'bench.db'}",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": port,
            "HUDDLE_BASE_URL": "http://huddle.test",
        }
    )


def _people(count: int, prefix: str = ""):
    from huddle.models import User

    return [
        User(
            email=f"persoon{prefix}{i}@example.org",
            first_name="Zoë",
            last_name=f"Bakker {i}",
            language="nl" if i % 2 else "en",
        )
        for i in range(count)
    ]


def measure_ours(app, count: int) -> float:
    from huddle import mail

    people = _people(count)
    with app.app_context(), app.test_request_context():
        started = time.perf_counter()
        letters = (
            (
                person,
                lambda person=person: mail.welcome_letter(
                    person, link="http://huddle.test/set-password/abc", levels=["Basis"]
                ),
            )
            for person in people
        )
        failed = sum(error is not None for _person, error in mail.send(letters))
        seconds = time.perf_counter() - started
    assert not failed, f"{failed} mails were not sent"
    return seconds


def measure_job(app, count: int) -> float:
    from flask_migrate import upgrade

    from huddle import jobs
    from huddle.extensions import db
    from huddle.models import (
        ImportMail,
        ImportRun,
        ImportStatus,
        Level,
        MailKind,
        User,
        UserLevel,
    )

    with app.app_context(), app.test_request_context():
        upgrade(directory=str(ROOT / "migrations"))
        admin = User(email=f"admin{time.time_ns()}@example.org", first_name="A", last_name="B")
        level = Level(name=f"Basis {time.time_ns()}")
        people = _people(count, prefix=str(time.time_ns()))
        db.session.add_all([admin, level, *people])
        db.session.flush()
        db.session.add_all(UserLevel(user_id=person.id, level_id=level.id) for person in people)
        db.session.flush()
        run = ImportRun(filename="leden.csv", created_by_id=admin.id, status=ImportStatus.DONE)
        db.session.add(run)
        db.session.flush()
        db.session.add_all(
            ImportMail(import_id=run.id, user_id=person.id, kind=MailKind.WELCOME.value)
            for person in people
        )
        db.session.commit()
        run_id = run.id
        db.session.expunge_all()  # the job starts with nothing loaded, as in the worker
        started = time.perf_counter()
        sent, failed = jobs.send_import_mails(run_id, (MailKind.WELCOME,))
        seconds = time.perf_counter() - started
    assert (sent, failed) == (count, 0), f"{sent} sent, {failed} failed"
    return seconds


def measure_floor(app, count: int, port: int) -> float:
    from huddle import mail

    people = _people(count)
    with app.app_context(), app.test_request_context():
        sender = parseaddr(app.config["MAIL_DEFAULT_SENDER"])[1]
        letters = [
            mail.welcome_letter(p, link="http://huddle.test/set-password/abc", levels=["Basis"])
            for p in people
        ]
        prepared = [(sender, [letter.to], mail.written(letter)) for letter in letters]
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for sender, recipients, data in prepared:
            connection.sendmail(sender, recipients, data)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mails", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3, help="report the fastest of N runs")
    args = parser.parse_args()

    from aiosmtpd.controller import Controller

    port = _free_port()
    server = Controller(Discard(), hostname="127.0.0.1", port=port)
    server.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            app = _app(Path(folder), port)
            ours = min(measure_ours(app, args.mails) for _ in range(args.repeat))
            job = min(measure_job(app, args.mails) for _ in range(args.repeat))
            floor = min(measure_floor(app, args.mails, port) for _ in range(args.repeat))
    finally:
        server.stop()
    print(f"{'mails':>8} {'measure':<44} {'seconds':>8} {'mails/s':>9}")
    print(
        f"{args.mails:>8,} {'(a) ours: compose, render, send':<44} {ours:>8.2f} "
        f"{args.mails / ours:>9,.0f}"
    )
    print(
        f"{args.mails:>8,} {'(b) plain smtplib, messages made beforehand':<44} {floor:>8.2f} "
        f"{args.mails / floor:>9,.0f}"
    )
    print(
        f"{args.mails:>8,} {'(c) the mail job, through the database':<44} {job:>8.2f} "
        f"{args.mails / job:>9,.0f}"
    )
    print(f"{'':>8} {'(b)/(a): how many times faster the floor is':<44} {ours / floor:>8.2f}")
    print(f"{'':>8} {'(b)/(c): the same, for the whole mail job':<44} {job / floor:>8.2f}")


if __name__ == "__main__":
    main()
