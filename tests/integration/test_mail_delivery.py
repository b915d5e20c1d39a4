"""A mail server that is down: the import succeeds, its mails wait, are retried by RQ, arrive
exactly once when the server is back, and the admin sees (and can resend) what failed."""

import time

import pytest
from sqlalchemy import select

from huddle import devmail, jobs
from huddle.extensions import db
from huddle.imports import claims, drafts
from huddle.imports.applying import apply_import
from huddle.models import MAX_MAIL_ATTEMPTS, ImportMail, ImportRun, Level, MailKind

from ..helpers import (
    csv_file,
    end_retry_pauses,
    free_port,
    run_worker,
    start,
    start_worker,
    stop_process,
    upload,
    wait_for_mail,
    walk_to_start,
    worker_env,
)


def _wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _mails(run_id: int) -> list[ImportMail]:
    return db.session.scalars(select(ImportMail).where(ImportMail.import_id == run_id)).all()


@pytest.fixture
def dead_mail_port():
    """A loopback port where no mail server listens (yet)."""
    return free_port()


def test_mails_wait_while_the_server_is_down_and_arrive_once_when_it_is_back(
    app, admin, admin_client, app_ctx, smtp_sink, dead_mail_port, tmp_path
):
    level = Level(name="Basis")
    db.session.add(level)
    db.session.commit()
    data = csv_file("anna@x.nl;Anna;;Jansen;;;;;", "bram@x.nl;Bram;;Smit;;;;;")
    run = drafts.create_draft("mensen.csv", data, admin=admin)
    run.level_ids, run.notify_new = [level.id], True
    db.session.commit()
    run_id, public_id = run.id, run.public_id

    worker = start_worker({**worker_env(app, smtp_sink), "MAIL_PORT": str(dead_mail_port)})
    sink = None
    try:
        assert drafts.start(run)
        # The import itself does not need the mail server.
        _wait_for(lambda: db.session.get(ImportRun, run_id).status == "done", 60, "the import")
        _wait_for(
            lambda: all(m.attempts == 1 for m in _mails(run_id)), 30, "a first try of the mails"
        )
        assert {(m.status, m.kind) for m in _mails(run_id)} == {
            ("pending", "welcome"),
            ("pending", "report"),
        }
        page = admin_client.get(f"/imports/{public_id}").get_data(as_text=True)
        assert "waiting to be sent" in page
        assert "Mail server unreachable" in page
        assert 'hx-trigger="every 5s"' in page  # the section keeps itself up to date

        # The server comes back on the same port; RQ's retry (10 s later) delivers them.
        sink = devmail.start_sink(tmp_path, port=dead_mail_port)
        messages = wait_for_mail(tmp_path, count=3, timeout=60)
        _wait_for(lambda: all(m.status == "sent" for m in _mails(run_id)), 30, "mails marked sent")
    finally:
        stop_process(worker)
        if sink:
            sink.stop()
    assert sorted(m.to for m in devmail.list_messages(tmp_path)) == [
        "admin@example.org",
        "anna@x.nl",
        "bram@x.nl",
    ]
    assert len(messages) == 3
    assert {m.attempts for m in _mails(run_id)} == {2}
    part = admin_client.get(f"/imports/{public_id}/delivery").get_data(as_text=True)
    assert '<span class="count">3</span> sent' in part
    assert "every 5s" not in part  # nothing left to wait for


def test_mails_that_failed_every_try_are_listed_and_can_be_sent_again(
    app, admin_client, app_ctx, smtp_sink, dead_mail_port, monkeypatch
):
    data = csv_file("anna@x.nl;Anna;;Jansen;;;;;", "bram@x.nl;Bram;;Smit;;;;;")
    _, public_id = upload(admin_client, data)
    walk_to_start(admin_client, public_id, notify_new=True)
    start(admin_client, public_id)
    run = db.session.scalar(select(ImportRun).where(ImportRun.public_id == public_id))

    # The mail server is unreachable for every try the mails get.
    monkeypatch.setattr(app.extensions["mail"], "port", dead_mail_port)
    run_worker(app)  # the import, and the first try of its mails
    for _ in range(MAX_MAIL_ATTEMPTS - 1):
        end_retry_pauses(run.id)
        assert jobs.send_import_mails(run.id) == (0, 3)
    db.session.expire_all()
    assert {(m.status, m.attempts) for m in _mails(run.id)} == {("failed", MAX_MAIL_ATTEMPTS)}
    end_retry_pauses(run.id)
    assert jobs.send_import_mails(run.id) == (0, 0)  # given up: no sixth try

    page = admin_client.get(f"/imports/{public_id}").get_data(as_text=True)
    assert "not sent after 5 tries" in page
    assert "<td>anna@x.nl</td><td>Welcome mail</td><td>5</td>" in page
    assert "Send the 3 failed mails again" in page

    # Fixed: the admin sends them again.
    monkeypatch.undo()
    response = admin_client.post(
        f"/imports/{public_id}/delivery/resend",
        data={"csrf_token": admin_client.csrf},
        headers={"HX-Request": "true"},
    )
    assert "3 mails will be sent again." in response.get_data(as_text=True)
    run_worker(app)
    messages = wait_for_mail(smtp_sink["outbox"], count=3)
    assert sorted(m.to for m in messages) == ["admin@example.org", "anna@x.nl", "bram@x.nl"]
    db.session.expire_all()
    assert {m.status for m in _mails(run.id)} == {"sent"}
    part = admin_client.get(f"/imports/{public_id}/delivery").get_data(as_text=True)
    assert '<span class="count">3</span> sent' in part and "again</button>" not in part


def test_resending_needs_a_csrf_token(admin_client, app_ctx):
    _, public_id = upload(admin_client, csv_file("anna@x.nl;Anna;;Jansen;;;;;"))
    response = admin_client.post(f"/imports/{public_id}/delivery/resend")
    assert response.status_code == 400


def test_mails_going_out_read_as_sending_not_as_failing(admin_client, app, app_ctx):
    data = csv_file("anna@x.nl;Anna;;Jansen;;;;;", "bram@x.nl;Bram;;Smit;;;;;")
    _, public_id = upload(admin_client, data)
    walk_to_start(admin_client, public_id, notify_new=True)
    start(admin_client, public_id)
    run = db.session.scalar(select(ImportRun).where(ImportRun.public_id == public_id))
    apply_import(run)  # imported; its 3 mails not tried yet
    part = admin_client.get(f"/imports/{public_id}/delivery").get_data(as_text=True)
    assert "Sending: 0 of 3 sent." in part
    assert "tried again" not in part and "did not work" not in part
    assert "every 5s" in part  # it follows them

    # One is being handed to the server: still on its way, not lost from the count.
    sender = claims.claimant()
    [first] = claims.claim_mails(run.id, tuple(MailKind), sender, limit=1)
    assert claims.start_sending(first, sender)
    part = admin_client.get(f"/imports/{public_id}/delivery").get_data(as_text=True)
    assert "Sending: 0 of 3 sent." in part
