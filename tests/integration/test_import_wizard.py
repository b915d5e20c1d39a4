"""The import wizard over HTTP, with a real worker on the real Redis and a real SMTP server."""

import io
import re

import openpyxl
import pytest
from sqlalchemy import select, text

from huddle.extensions import db
from huddle.imports.applying import apply_import
from huddle.jobs import send_import_mails
from huddle.models import ImportMail, ImportRun, Level, User, UserLevel

from ..helpers import (
    HEADER,
    SEVEN_ROWS,
    csrf_token,
    csv_file,
    log_in,
    make_user,
    run_worker,
    seven_rows_users,
    start,
    upload,
    wait_for_mail,
    walk_to_start,
)


@pytest.fixture
def levels(app_ctx):
    basis, pro = Level(name="Basis"), Level(name="Pro")
    db.session.add_all([basis, pro])
    db.session.commit()
    return {"Basis": basis, "Pro": pro}


def _levels_of(email: str) -> list[str]:
    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.email == email))
    return sorted(level.name for level in user.levels)


def test_template_is_semicolon_separated_utf8_with_bom(admin_client):
    response = admin_client.get("/imports/template.csv")
    assert response.data == ("\ufeff" + HEADER + "\r\n").encode("utf-8")
    assert "attachment" in response.headers["Content-Disposition"]


def test_the_xlsx_template_fills_in_and_uploads_as_it_is(admin_client, app_ctx):
    response = admin_client.get("/imports/template.xlsx")
    assert response.mimetype.endswith("spreadsheetml.sheet")
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert [cell.value for cell in book.active[1]] == HEADER.split(";")
    book.active.append(["zoe@celik.nl", "Zoë", None, "Çelik"])
    filled = io.BytesIO()
    book.save(filled)
    page, _ = upload(admin_client, filled.getvalue(), filename="template.xlsx")
    assert "1</span> new user</li>" in page.get_data(as_text=True)


def test_wizard_from_upload_to_imported_users_and_mails(admin_client, levels, app, smtp_sink):
    existing = make_user("piet@bakkerij.nl", first_name="Piet", last_name="Berg")
    db.session.add(UserLevel(user_id=existing.id, level_id=levels["Basis"].id))
    db.session.commit()
    data = csv_file(
        "jan@gemeente.nl;Jan;;Jansen;+31 6 12345678;Gemeente;;nl;",
        "PIET@bakkerij.nl;Piet;van den;Berg;;;;;",
        "",
        "not-an-address;Zoë;;Çelik;;;;;",
        "anouk@school.nl;Anouk;de;Vries;;;;en;Gold",
    )
    page, public_id = upload(admin_client, data)
    html = page.get_data(as_text=True)
    assert "4</span> rows read" in html
    assert "1 blank line skipped" in html
    assert "2</span> invalid rows" in html
    # Each problem on its cell, with the line number as the admin counts it.
    assert 'aria-label="Line 5, e-mail address"' in html
    assert "“not-an-address” has no @: an e-mail address looks like name@example.org." in html
    assert "There is no level “Gold” (levels: Basis, Pro)" in html
    # An existing user: what will change (a blank cell never clears anything).
    assert "infix: “” → “van den”" in html
    # Headed by the file's titles over the fields; a column empty in every row is left out.
    assert '<th scope="col" class="col-email">E-mail address</th>' in html  # template titles
    assert "Not shown, as they are empty in every row: job title." in html
    assert 'class="col-job_title' not in html
    # An invalid row: its problem cells are inputs; its other cells open one when clicked.
    assert '<details class="cell-edit"><summary>Zoë' in html
    assert 'aria-label="Line 5, first name"' in html

    # Fix in place: line 5's address, then line 6's level.
    fixed = admin_client.post(
        f"/imports/{public_id}/rows/5",
        data={"column": "email", "value": "zoe@celik.nl"},
        headers={"HX-Request": "true", "X-CSRFToken": admin_client.csrf},
    ).get_data(as_text=True)
    assert 'id="row-5" class="row-create"' in fixed
    assert 'hx-swap-oob="true"' in fixed and "1</span> invalid row</li>" in fixed
    admin_client.post(
        f"/imports/{public_id}/rows/6",
        data={"column": "levels", "value": "Pro"},
        headers={"HX-Request": "true", "X-CSRFToken": admin_client.csrf},
    )

    confirm = walk_to_start(admin_client, public_id, level_ids=[levels["Basis"].id])
    sentence = confirm.get_data(as_text=True)
    assert (
        "3 new users, with Basis. 1 existing user: 1 gets their details updated. Nobody loses "
        "anything. 3 welcome mails are sent." in sentence
    )

    response = start(admin_client, public_id)
    assert response.status_code == 302
    assert admin_client.get(response.headers["Location"]).status_code == 200
    assert start(admin_client, public_id).status_code == 302  # a double click
    run_worker(app)

    db.session.expire_all()
    run = db.session.scalar(select(ImportRun).where(ImportRun.public_id == public_id))
    assert run.status == "done"
    assert (run.new_count, run.update_count, run.invalid_count) == (3, 1, 0)
    assert _levels_of("jan@gemeente.nl") == ["Basis"]
    assert _levels_of("anouk@school.nl") == ["Basis", "Pro"]
    assert _levels_of("zoe@celik.nl") == ["Basis"]
    piet = db.session.get(User, existing.id)
    assert piet.infix == "van den" and piet.last_name == "Berg"
    jan = db.session.scalar(select(User).where(User.email == "jan@gemeente.nl"))
    assert jan.phone == "+31 6 12345678" and not jan.is_admin and not jan.has_password

    messages = wait_for_mail(smtp_sink["outbox"], count=4)
    by_recipient = {m.to: m for m in messages}
    assert set(by_recipient) == {
        "jan@gemeente.nl",
        "zoe@celik.nl",
        "anouk@school.nl",
        "admin@example.org",
    }
    report = by_recipient["admin@example.org"]
    assert report.subject == "Import finished: people.csv"
    assert f"http://huddle.test/imports/{public_id}" in report.text
    welcome = by_recipient["jan@gemeente.nl"]
    assert "Basis" in welcome.text

    # The welcome link lets the new user choose a password and log in.
    link = re.search(r"http://huddle\.test(/set-password/\S+)", welcome.text).group(1)
    client = app.test_client()
    token = csrf_token(client, link)
    new = {"password": "my own secret 1", "confirm": "my own secret 1", "csrf_token": token}
    assert client.post(link, data=new).status_code == 302
    assert log_in(app.test_client(), "jan@gemeente.nl", "my own secret 1").status_code == 302


def test_the_help_articles_round_trip_adds_level_b_and_changes_nothing_else(
    admin_client, app, app_ctx, smtp_sink
):
    a, b = Level(name="A"), Level(name="B")
    db.session.add_all([a, b])
    db.session.commit()
    for i in range(100):
        user = make_user(f"member{i}@example.org", first_name=f"M{i}", last_name="Lid")
        db.session.add(UserLevel(user_id=user.id, level_id=a.id))
    bystander = make_user("bystander@example.org", first_name="Bo", last_name="Stander")
    db.session.commit()
    before = bystander.updated_at

    lines = [f"member{i}@example.org;M{i};;Lid;;;;;" for i in range(100)]
    page, public_id = upload(admin_client, csv_file(*lines))
    assert (
        '100</span> existing users<span class="count-parts">: 100 are already up to date'
        in page.get_data(as_text=True)
    )
    confirm = walk_to_start(admin_client, public_id, level_ids=[b.id], notify_new=False)
    assert (
        "0 new users. Of the 100 existing users: 100 gain B. Nobody loses anything. "
        "100 update mails are sent." in confirm.get_data(as_text=True)
    )
    start(admin_client, public_id)
    run_worker(app)

    db.session.expire_all()
    for i in range(100):
        assert _levels_of(f"member{i}@example.org") == ["A", "B"]
    assert _levels_of("bystander@example.org") == []
    assert db.session.get(User, bystander.id).updated_at == before
    assert len(wait_for_mail(smtp_sink["outbox"], count=101)) == 101  # 100 updates + report


def test_importing_the_same_file_twice_changes_nothing_and_mails_once(
    admin_client, app, levels, smtp_sink
):
    data = csv_file("new@example.org;Nina;;Nieuw;;;;;")
    _, first = upload(admin_client, data)
    walk_to_start(admin_client, first, level_ids=[levels["Pro"].id])
    start(admin_client, first)
    run_worker(app)
    wait_for_mail(smtp_sink["outbox"], count=2)  # welcome + report

    page, second = upload(admin_client, data)
    assert (
        '1</span> existing user<span class="count-parts">: 1 is already up to date'
        in page.get_data(as_text=True)
    )
    walk_to_start(admin_client, second, level_ids=[levels["Pro"].id])
    start(admin_client, second)
    run_worker(app)
    messages = wait_for_mail(smtp_sink["outbox"], count=3)
    assert sorted(m.to for m in messages) == [
        "admin@example.org",
        "admin@example.org",
        "new@example.org",
    ]
    db.session.expire_all()
    assert db.session.scalar(select(db.func.count()).select_from(User)) == 2


def _refuse_inserts_of(email: str) -> None:
    """Make the database itself refuse one address (a real failure, mid-import)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(
            text(
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                f"IF NEW.email = '{email}' THEN RAISE EXCEPTION 'disk full (test)'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
        )
        db.session.execute(
            text(
                "CREATE TRIGGER refuse BEFORE INSERT ON users FOR EACH ROW "
                "EXECUTE FUNCTION refuse()"
            )
        )
    else:
        db.session.execute(
            text(
                f"CREATE TRIGGER refuse BEFORE INSERT ON users WHEN NEW.email = '{email}' "
                "BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END"
            )
        )
    db.session.commit()


def _allow_inserts() -> None:
    db.session.execute(
        text(
            "DROP TRIGGER refuse" + (" ON users" if db.engine.dialect.name == "postgresql" else "")
        )
    )
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("DROP FUNCTION refuse()"))
    db.session.commit()


def test_a_failing_import_writes_nothing_and_reports_the_failure(
    admin_client, app, levels, smtp_sink
):
    keep = make_user("keep@example.org", first_name="Kees", last_name="Houden")
    rows = [f"user{i}@example.org;U{i};;Test;;;;;" for i in range(2500)]
    rows.append("keep@example.org;Kees;;Veranderd;;;;;")
    rows.append("boom@example.org;Boom;;Test;;;;;")
    rows.append("kapot;Kapot;;Rij;;;;;")  # line 2504: invalid, to fix before trying again
    _, public_id = upload(admin_client, csv_file(*rows))
    walk_to_start(
        admin_client,
        public_id,
        level_ids=[levels["Basis"].id],
        notify_new=False,
        notify_existing=False,
    )
    _refuse_inserts_of("boom@example.org")
    try:
        start(admin_client, public_id)
        run_worker(app)
    finally:
        _allow_inserts()

    db.session.expire_all()
    run = db.session.scalar(select(ImportRun).where(ImportRun.public_id == public_id))
    assert run.status == "failed"
    assert "disk full (test)" in run.error and "Nothing was imported" in run.error
    assert db.session.scalars(select(User.email).order_by(User.email)).all() == [
        "admin@example.org",
        "keep@example.org",
    ]
    assert db.session.get(User, keep.id).last_name == "Houden"
    assert db.session.scalars(select(UserLevel)).all() == []
    [report] = wait_for_mail(smtp_sink["outbox"])
    assert report.subject == "Import failed: people.csv"
    assert "Nothing was imported" in report.text
    assert "The file also has 1 row with problems" in report.text
    [(filename, _type, payload), (outcome_name, _type, outcome)] = report.attachments
    assert filename.startswith("problem-rows-") and filename.endswith(".csv")
    assert "kapot;Kapot;;Rij" in payload.decode() and "Line 2504" in payload.decode()
    # What it would have done, every row: attached, and on the import's page.
    assert outcome_name.startswith("outcome-") and "Attached: the outcome" in report.text
    lines = outcome.decode("utf-8-sig").splitlines()
    assert lines[0] == "line;e-mail address;outcome;details" and len(lines) == 2504
    assert lines[1] == "2;user0@example.org;not imported: would be created;gains Basis"
    assert lines[2501] == (
        "2502;keep@example.org;not imported: would be updated;"
        "gains Basis | last name: “Houden” → “Veranderd”"
    )
    assert lines[2503].startswith("2504;kapot;not imported: would be skipped;e-mail address: ")
    page = admin_client.get(f"/imports/{public_id}").get_data(as_text=True)
    assert "The import failed: nothing was imported" in page
    download = admin_client.get(f"/imports/{public_id}/outcome.csv")
    assert download.data == outcome
    assert 'filename="people-outcome.csv"' in download.headers["Content-Disposition"]
    assert db.session.scalar(select(db.func.count()).select_from(ImportMail)) == 1

    # Run again once the database accepts the rows: everything is imported, and the admin
    # gets a second report, with the new outcome.
    apply_import(run)
    send_import_mails(run.id)
    assert run.status == "done" and run.new_count == 2501
    subjects = [m.subject for m in wait_for_mail(smtp_sink["outbox"], count=2)]
    assert sorted(subjects) == ["Import failed: people.csv", "Import finished: people.csv"]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"Contact;Naam;last_name\r\nA;B;C\r\n", "renamed?"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "old-style Excel file (.xls)"),
        (f"{HEADER}\r\n".encode(), "column titles but no users"),
        (b"", "The file is empty."),
    ],
)
def test_files_that_cannot_be_read_get_a_precise_message(admin_client, app_ctx, data, words):
    page, _ = upload(admin_client, data)
    html = page.get_data(as_text=True)
    assert "cannot be imported" in html
    assert words in html


def test_problem_rows_download_has_an_error_column(admin_client, levels):
    _, public_id = upload(admin_client, csv_file("ok@x.nl;A;;B;;;;;", "bad;C;;D;;;;;"))
    text_ = admin_client.get(f"/imports/{public_id}/problems.csv").get_data(as_text=True)
    lines = text_.lstrip("\ufeff").splitlines()
    assert lines[0] == HEADER + ";error"
    assert len(lines) == 2
    assert lines[1].startswith("bad;C;;D;")
    assert "Line 3: email: “bad” has no @" in lines[1]


def test_preview_tabs_and_pages(admin_client, levels):
    rows = [f"u{i}@x.nl;U;;{i};;;;;" for i in range(120)] + ["bad;B;;C;;;;;"]
    _, public_id = upload(admin_client, csv_file(*rows))
    invalid = admin_client.get(f"/imports/{public_id}/rows?tab=invalid").get_data(as_text=True)
    assert 'id="row-122"' in invalid and 'id="row-2"' not in invalid
    page3 = admin_client.get(f"/imports/{public_id}/rows?tab=new&page=3").get_data(as_text=True)
    assert 'id="row-102"' in page3 and "Page 3 of 3" in page3


def test_report_mail_attaches_the_skipped_rows_and_the_page_shows_progress_then_outcome(
    admin_client, app, levels, smtp_sink
):
    _, public_id = upload(admin_client, csv_file("ok@x.nl;Olga;;Ok;;;;;", "bad;Bert;;Bad;;;;;"))
    walk_to_start(admin_client, public_id, notify_new=False, notify_existing=False)
    start(admin_client, public_id)
    queued = admin_client.get(f"/imports/{public_id}/progress").get_data(as_text=True)
    assert "background jobs are not running at the moment" in queued and "worker" not in queued
    assert '<progress class="progressbar"' in queued and 'hx-trigger="every 1s"' in queued

    run_worker(app)
    finished = admin_client.get(f"/imports/{public_id}/progress", headers={"HX-Request": "true"})
    assert finished.headers["HX-Refresh"] == "true"  # the page reloads to show the outcome
    page = admin_client.get(f"/imports/{public_id}").get_data(as_text=True)
    assert "1</span> user created" in page and "“bad” has no @" in page

    [report] = wait_for_mail(smtp_sink["outbox"])
    [(name, kind, payload)] = report.attachments
    assert name.startswith("problem-rows-") and kind == "text/csv"
    assert "bad;Bert;;Bad" in payload.decode("utf-8-sig")


def test_history_lists_imports_with_who_levels_and_counts(admin_client, app, levels):
    _, public_id = upload(admin_client, csv_file("ok@x.nl;Olga;;Ok;;;;;"), filename="leden.csv")
    walk_to_start(admin_client, public_id, level_ids=[levels["Pro"].id])
    html = admin_client.get("/imports").get_data(as_text=True)
    assert "leden.csv" in html and "admin@example.org" in html
    assert '<span class="tag">Pro</span>' in html and "draft" in html


def test_a_file_over_the_size_limit_gets_a_clear_message(admin_client, app):
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    try:
        data = csv_file(*(f"user{i}@example.org;A;;B;;;;;" for i in range(40_000)))
        response = admin_client.post(
            "/imports/new/upload",
            data={"csrf_token": admin_client.csrf, "file": (io.BytesIO(data), "big.csv")},
            content_type="multipart/form-data",
            headers={"HX-Request": "true"},
        )
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 20 * 1024 * 1024
    assert response.headers["HX-Retarget"] == "#wizard .upload"
    assert "That file is too large: at most 1 MB can be uploaded" in response.get_data(as_text=True)


def test_users_manage_lists_every_draft_to_continue_or_discard(admin_client, levels):
    _, first = upload(admin_client, csv_file("a@x.nl;A;;B;;;;;"), filename="eerste.csv")
    _, second = upload(admin_client, csv_file("b@x.nl;B;;C;;;;;", "c@x.nl;C;;D;;;;;"), "tweede.csv")
    page = admin_client.get("/users").get_data(as_text=True)
    assert "2 imports not started yet" in page
    for public_id, name, rows in ((first, "eerste.csv", "1 row"), (second, "tweede.csv", "2 rows")):
        assert f"<strong>{name}</strong>" in page and rows in page
        assert f'href="/imports/{public_id}/check"' in page
        assert f'action="/imports/{public_id}/discard"' in page
    assert "uploaded just now" in page
    response = admin_client.post(
        f"/imports/{first}/discard", data={"csrf_token": admin_client.csrf}
    )
    assert response.status_code == 302
    assert admin_client.get(f"/imports/{first}").status_code == 404
    page = admin_client.get("/users").get_data(as_text=True)
    assert "1 import not started yet" in page and "eerste.csv" not in page


def test_uploading_the_same_file_again_replaces_its_draft(admin_client, levels):
    _, first = upload(admin_client, csv_file("a@x.nl;A;;B;;;;;"), filename="leden.csv")
    walk_to_start(admin_client, first, level_ids=[levels["Pro"].id], notify_new=False)
    _, again = upload(admin_client, csv_file("a@x.nl;A;;B;;;;;", "b@x.nl;B;;C;;;;;"), "leden.csv")
    assert again != first and admin_client.get(f"/imports/{first}").status_code == 404
    page = admin_client.get("/users").get_data(as_text=True)
    assert "1 import not started yet" in page and "2 rows" in page
    run = db.session.scalar(select(ImportRun).where(ImportRun.public_id == again))
    assert run.level_ids == [levels["Pro"].id] and not run.notify_new  # the choices stay


def test_a_draft_reopened_after_another_import_shows_todays_counts(admin_client, app, levels):
    data = csv_file("nieuw@x.nl;Nina;;Nieuw;;;;;")
    page, later = upload(admin_client, data, filename="later.csv")
    assert "1</span> new user</li>" in page.get_data(as_text=True)
    # Meanwhile another import brings that user in.
    _, other = upload(admin_client, data, filename="eerder.csv")
    walk_to_start(admin_client, other, notify_new=False)
    start(admin_client, other)
    run_worker(app)
    reopened = admin_client.get(f"/imports/{later}/check").get_data(as_text=True)
    assert "0</span> new users</li>" in reopened
    assert '1</span> existing user<span class="count-parts">: 1 is already up to date' in reopened
    confirm = admin_client.get(f"/imports/{later}/confirm").get_data(as_text=True)
    assert "0 new users. 1 existing user: 1 is already up to date." in confirm


def test_drafts_never_started_are_deleted_after_a_week(admin_client, app_ctx):
    from datetime import timedelta

    from huddle.imports.upkeep import delete_old_drafts
    from huddle.models import utcnow

    _, old = upload(admin_client, csv_file("a@x.nl;A;;B;;;;;"), filename="oud.csv")
    _, new = upload(admin_client, csv_file("a@x.nl;A;;B;;;;;"), filename="nieuw.csv")
    _, refused = upload(admin_client, b"", filename="leeg.csv")
    for public_id in (old, refused):
        run = db.session.scalar(select(ImportRun).where(ImportRun.public_id == public_id))
        run.created_at = utcnow() - timedelta(days=8)
    db.session.commit()
    assert delete_old_drafts() == 2
    assert admin_client.get(f"/imports/{old}").status_code == 404
    assert admin_client.get(f"/imports/{refused}").status_code == 404
    assert admin_client.get(f"/imports/{new}/check").status_code == 200


def test_preview_finds_an_address_used_again_in_a_later_batch(admin_client, levels):
    from huddle.pipeline.streaming import BATCH_ROWS as BATCH_SIZE

    lines = [f"user{i}@x.nl;U;;{i};;;;;" for i in range(BATCH_SIZE + 10)]
    lines.append("user3@x.nl;Again;;Three;;;;;")
    _, public_id = upload(admin_client, csv_file(*lines))
    invalid = admin_client.get(f"/imports/{public_id}/rows?tab=invalid").get_data(as_text=True)
    assert f'id="row-{BATCH_SIZE + 12}"' in invalid
    assert "The same e-mail address is on line 5." in invalid


def test_the_preview_confirm_step_and_report_count_each_kind_of_change(
    admin_client, app, smtp_sink
):
    seven_rows_users()
    page, public_id = upload(admin_client, SEVEN_ROWS)
    # Before levels are chosen, the one without B has nothing to gain.
    assert (
        '4</span> existing users<span class="count-parts">: 2 get their details updated, '
        "2 are already up to date</span>" in page.get_data(as_text=True)
    )
    b = db.session.scalar(select(Level).where(Level.name == "B"))
    confirm = walk_to_start(admin_client, public_id, level_ids=[b.id]).get_data(as_text=True)
    assert (
        "2 new users, with B. Of the 4 existing users: 1 gains B, 2 get their details updated, "
        "1 is already up to date. Nobody loses anything. 1 invalid row is skipped. 2 welcome "
        "mails and 1 update mail are sent." in confirm
    )
    start(admin_client, public_id)
    run_worker(app)
    mails = wait_for_mail(smtp_sink["outbox"], count=4)  # 2 welcome, 1 update, the report
    [report] = [m for m in mails if m.subject.startswith("Import finished")]
    assert (
        "Of the 4 existing users: 1 gained B, 2 got their details updated, 1 was already up "
        "to date." in report.text
    )
    page = admin_client.get(f"/imports/{public_id}").get_data(as_text=True)
    assert (
        '4</span> existing users<span class="count-parts">: 1 gained B, 2 got their details '
        "updated, 1 was already up to date</span>" in page
    )
    # The whole outcome, every line, with what happened to it.
    outcome = admin_client.get(f"/imports/{public_id}/outcome.csv").data.decode("utf-8-sig")
    assert outcome.splitlines() == [
        "line;e-mail address;outcome;details",
        "2;nieuw1@x.nl;created;gains B",
        "3;nieuw2@x.nl;created;gains B",
        "4;geen.b@x.nl;updated;gains B",
        "5;telefoon1@x.nl;updated;phone: “” → “06 11111111”",
        "6;telefoon2@x.nl;updated;phone: “” → “06 22222222”",
        "7;klaar@x.nl;unchanged;",
        "8;kapot;skipped;e-mail address: “kapot” has no @: an e-mail address looks like "
        "name@example.org.",
    ]
