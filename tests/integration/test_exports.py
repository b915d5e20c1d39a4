"""Exports end to end: asked for on Users › Manage, made by a real worker on the real Redis,
mailed through a real SMTP server, downloaded, and imported back unchanged."""

import io
import json
import re
import time
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import select

from huddle.extensions import db
from huddle.models import Export, ExportChunk, Level, User, UserLevel, utcnow
from huddle.tokens import export_download_token

from ..helpers import make_user, run_worker, start, upload, wait_for_mail, walk_to_start

# Values that break naive CSV code or would run as formulas in a spreadsheet.
TRICKY = [
    dict(email="zoe@celik.nl", first_name="Zoë", last_name="Çelik", phone="+31 6 12345678"),
    dict(email="hart@x.nl", first_name="Jan", infix="’t", last_name="Hart",
         organisation="Bakkerij; “De Korenbloem”", job_title='de "baas"'),
    dict(email="obrien@x.nl", first_name="Seán", last_name="O'Brien",
         organisation="Eerste regel\nTweede regel", job_title="-lead", language="en"),
    dict(email="formula@x.nl", first_name="=1+1", last_name="@SUM(A1)", phone="-",
         organisation="=HYPERLINK(\"http://evil\")", job_title="'+x"),
    dict(email="plain@x.nl", first_name="Piet", last_name="Plain"),
]  # fmt: skip
USER_FIELDS = ("email", "first_name", "infix", "last_name", "phone", "organisation", "job_title",
               "language")  # fmt: skip


def _snapshot() -> dict:
    """Every user's stored values and level names, by e-mail address."""
    db.session.expire_all()
    return {
        user.email: (
            tuple(getattr(user, field) for field in USER_FIELDS),
            sorted(level.name for level in user.levels),
        )
        for user in db.session.scalars(select(User))
    }


def _ask_export(client, *, user_ids=(), fmt="csv", scope="ticked", **filters):
    data = {"csrf_token": client.csrf, "format": fmt, "scope": scope, **filters}
    data["user_ids"] = [str(i) for i in user_ids]
    return client.post("/exports", data=data, headers={"HX-Request": "true"})


def _latest_export() -> Export:
    db.session.expire_all()
    return db.session.scalars(select(Export).order_by(Export.id.desc())).first()


def _import_cli(app, tmp_path, data: bytes, *args):
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    result = app.test_cli_runner().invoke(args=["users", "import", str(path), *args])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def levels(app_ctx):
    found = {name: Level(name=name) for name in ("A", "B")}
    db.session.add_all(found.values())
    db.session.commit()
    return found


def test_ticked_users_are_mailed_as_a_csv_that_imports_back_unchanged(
    admin_client, admin, app, levels, smtp_sink, tmp_path
):
    users = [make_user(**fields) for fields in TRICKY]
    db.session.add(UserLevel(user_id=users[0].id, level_id=levels["A"].id))
    db.session.add(UserLevel(user_id=users[1].id, level_id=levels["A"].id))
    db.session.add(UserLevel(user_id=users[1].id, level_id=levels["B"].id))
    db.session.commit()
    make_user("not-ticked@x.nl")
    before = _snapshot()

    response = _ask_export(admin_client, user_ids=[u.id for u in users])
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "The export of 5 users is being prepared; you will receive it by e-mail." in page
    assert 'hx-trigger="every 1s"' in page  # the progress polls until the file is there

    run_worker(app)
    [message] = wait_for_mail(smtp_sink["outbox"])
    assert message.to == admin.email and message.subject == "Your export of 5 users is ready"
    [(name, kind, data)] = message.attachments
    assert re.fullmatch(r"huddle-users-\d{4}-\d\d-\d\d-\d{4}\.csv", name) and kind == "text/csv"
    assert data.startswith(b"\xef\xbb\xbfemail;first_name;infix;last_name;phone;organisation;")
    assert b"not-ticked" not in data
    assert b";'+31 6 12345678;" in data and b"'=1+1;" in data  # formulas are guarded
    assert b";A|B\r\n" in data and b"\r\n" in data and data.endswith(b"\r\n")

    export = _latest_export()
    status = admin_client.get(f"/exports/{export.public_id}/status").get_data(as_text=True)
    assert "Download huddle-users-" in status and "every 1s" not in status
    # Users › Manage still offers it after a reload.
    assert "Download huddle-users-" in admin_client.get("/users").get_data(as_text=True)
    download = admin_client.get(f"/exports/{export.public_id}/download")
    assert download.data == data
    assert download.headers["Content-Disposition"] == f'attachment; filename="{name}"'

    # Imported as it is, every row is already up to date, and applying it changes nothing.
    report = json.loads(_import_cli(app, tmp_path, data, "--dry-run", "--json").output)
    assert report["summary"] == {
        "rows": 5,
        "new": 0,
        "existing": 5,
        "invalid": 0,
        "gains": {},
        "details_updated": 0,
    }
    assert {row["action"] for row in report["rows"]} == {"unchanged"}
    _import_cli(app, tmp_path, data, "--notify-new", "--notify-existing")
    assert _snapshot() == before
    run_worker(app)
    assert len(wait_for_mail(smtp_sink["outbox"])) == 1  # still only the export's mail

    # Byte for byte: the users come back exactly as they were from the file alone.
    db.session.execute(UserLevel.__table__.delete())
    for email in (u["email"] for u in TRICKY):
        db.session.execute(User.__table__.delete().where(User.email == email))
    db.session.commit()
    _import_cli(app, tmp_path, data)
    assert _snapshot() == before


def test_the_help_articles_round_trip_adds_level_b_to_everyone_with_level_a(
    admin_client, app, levels, smtp_sink
):
    with_a = [make_user(f"a{i}@x.nl", first_name=f"Anna {i}") for i in range(100)]
    others = [make_user(f"o{i}@x.nl", first_name=f"Otto {i}") for i in range(20)]
    db.session.add_all(UserLevel(user_id=u.id, level_id=levels["A"].id) for u in with_a)
    db.session.commit()
    before = _snapshot()

    # Select everyone that matches the level filter A, not just the page.
    response = _ask_export(admin_client, scope="matching", level=str(levels["A"].id))
    assert "The export of 100 users is being prepared" in response.get_data(as_text=True)
    run_worker(app)
    [(_, _, data)] = wait_for_mail(smtp_sink["outbox"])[0].attachments
    assert data.count(b"\r\n") == 101

    _, public_id = upload(admin_client, data, filename="met-a.csv")
    walk_to_start(admin_client, public_id, level_ids=[levels["B"].id], notify_existing=False)
    start(admin_client, public_id)
    run_worker(app)

    after = _snapshot()
    for user in with_a:
        assert after[user.email] == (before[user.email][0], ["A", "B"])
    for user in others:
        assert after[user.email] == before[user.email]


def test_a_large_export_is_mailed_as_a_link_that_only_a_logged_in_admin_can_use(
    admin_client, member_client, app, admin, smtp_sink, monkeypatch
):
    monkeypatch.setitem(app.config, "EXPORT_ATTACH_MAX_BYTES", 100)
    users = [make_user(f"u{i}@x.nl") for i in range(5)]
    _ask_export(admin_client, user_ids=[u.id for u in users], fmt="xlsx")
    run_worker(app)
    [message] = wait_for_mail(smtp_sink["outbox"])
    assert not message.attachments and "too large to attach" in message.text
    link = re.search(r"http://huddle\.test(/exports/link/\S+)", message.text).group(1)

    response = admin_client.get(link)
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    assert sorted(row[0].value for row in sheet.iter_rows(min_row=2)) == [u.email for u in users]

    anonymous = app.test_client().get(link)
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")
    assert member_client.get(link).status_code == 403
    tampered = admin_client.get(link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb"))
    assert tampered.status_code == 404 and "not valid" in tampered.get_data(as_text=True)

    export = _latest_export()
    eight_days_ago = time.time() - 8 * 24 * 3600
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: eight_days_ago)
    with app.test_request_context():
        old_token = export_download_token(export)
    monkeypatch.undo()
    expired = admin_client.get(f"/exports/link/{old_token}")
    assert expired.status_code == 410 and "has expired" in expired.get_data(as_text=True)


def test_a_failed_export_is_mailed_and_shown(admin_client, app, admin, smtp_sink, monkeypatch):
    from huddle.exports import service

    def broken_writer(rows, out):
        next(iter(rows))
        raise OSError("No space left on device")

    monkeypatch.setitem(service.WRITERS, "csv", broken_writer)
    _ask_export(admin_client, user_ids=[make_user("x@x.nl").id])
    run_worker(app)
    [message] = wait_for_mail(smtp_sink["outbox"])
    assert message.subject == "Your export failed" and "No space left on device" in message.text
    export = _latest_export()
    assert export.status == "failed"
    assert db.session.scalar(select(ExportChunk).where(ExportChunk.export_id == export.id)) is None
    page = admin_client.get("/exports").get_data(as_text=True)
    assert "Failed: The export could not be written (OSError: No space left on device)" in page


def test_nothing_ticked_or_an_unknown_format_is_refused_with_a_message(admin_client):
    nothing = _ask_export(admin_client)
    assert nothing.status_code == 422
    assert "Tick at least one user to export." in nothing.get_data(as_text=True)
    odd = _ask_export(admin_client, user_ids=[1], fmt="pdf")
    assert odd.status_code == 422 and "Choose CSV or Excel" in odd.get_data(as_text=True)


def test_admins_see_only_their_own_exports_and_old_files_are_deleted(
    admin_client, app, admin, smtp_sink
):
    other = make_user("other-admin@x.nl", admin=True)
    theirs = Export(created_by_id=other.id, selection={"user_ids": [other.id]}, status="done")
    db.session.add(theirs)
    db.session.commit()
    _ask_export(admin_client, user_ids=[admin.id])
    run_worker(app)
    mine = _latest_export()
    page = admin_client.get("/exports").get_data(as_text=True)
    assert mine.public_id in page and theirs.public_id not in page
    assert "users ticked on Users › Manage" in page
    assert admin_client.get(f"/exports/{theirs.public_id}/download").status_code == 404

    mine.finished_at = utcnow() - timedelta(days=8)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["exports", "cleanup"])
    assert "Deleted the files of 1 old export(s)." in result.output
    assert _latest_export().status == "expired"
    assert db.session.scalar(select(ExportChunk).where(ExportChunk.export_id == mine.id)) is None
    gone = admin_client.get(f"/exports/{mine.public_id}/download")
    assert gone.status_code == 410 and "has been deleted" in gone.get_data(as_text=True)
    assert "Deleted after 7 days" in admin_client.get("/exports").get_data(as_text=True)


def test_command_line_export_by_level_to_stdout_and_to_an_xlsx_file(app, app_ctx, levels, tmp_path):
    anna = make_user("anna@x.nl", first_name="Anna", phone="+31 6 1", password="secret pw 12")
    make_user("bob@x.nl", first_name="Bob")
    db.session.add(UserLevel(user_id=anna.id, level_id=levels["A"].id))
    db.session.commit()
    runner = app.test_cli_runner()

    result = runner.invoke(args=["users", "export", "--level", "a"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "\ufeffemail;first_name;infix;last_name;phone;organisation;job_title;language;levels",
        "anna@x.nl;Anna;;User;'+31 6 1;;;;A",
    ]
    assert "Exported 1 users." in result.stderr
    assert anna.password_hash.split("$")[-1] not in result.stdout  # never a password hash

    path = tmp_path / "all.xlsx"
    result = runner.invoke(args=["users", "export", "--format", "xlsx", "--out", str(path)])
    assert result.exit_code == 0, result.output
    rows = list(openpyxl.load_workbook(path, read_only=True).active.values)
    assert [row[0] for row in rows] == ["email", "anna@x.nl", "bob@x.nl"]

    unknown = runner.invoke(args=["users", "export", "--level", "Nope"])
    assert unknown.exit_code == 2 and "There is no level “Nope”" in unknown.output
