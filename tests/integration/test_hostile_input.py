"""Files and values made to do harm: none of it gets through."""

import io
import re
import zipfile

import openpyxl
from sqlalchemy import select

from huddle.extensions import db
from huddle.models import ImportRun, User

from ..helpers import run_worker, start, upload, wait_for_mail, walk_to_start


def test_an_import_cannot_set_admin_passwords_or_other_columns(admin_client, app, app_ctx):
    data = (
        b"email;first_name;last_name;is_admin;password_hash;id;created_at\r\n"
        b"mallory@x.nl;Mal;Lory;1;pbkdf2:sha256:1$x$y;1;2000-01-01\r\n"
    )
    page, public_id = upload(admin_client, data)
    html = page.get_data(as_text=True)
    assert "Ignored columns (not in the template): is_admin, password_hash, id, created_at" in html
    walk_to_start(admin_client, public_id, notify_new=False, notify_existing=False)
    start(admin_client, public_id)
    run_worker(app)
    db.session.expire_all()
    mallory = db.session.scalar(select(User).where(User.email == "mallory@x.nl"))
    assert not mallory.is_admin and mallory.password_hash == "" and mallory.id != 1
    assert mallory.created_at.year > 2000


def test_markup_in_names_is_shown_as_text_everywhere(admin_client, app, app_ctx, smtp_sink):
    data = b"email;first_name;last_name\r\nx@x.nl;<script>alert(1)</script>;<b>Bold</b>\r\n"
    page, public_id = upload(admin_client, data)
    html = page.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)" in html
    walk_to_start(admin_client, public_id, notify_new=True, notify_existing=False)
    start(admin_client, public_id)
    run_worker(app)
    listing = admin_client.get("/users").get_data(as_text=True)
    assert "<b>Bold</b>" not in listing and "&lt;b&gt;Bold&lt;/b&gt;" in listing
    welcome = next(m for m in wait_for_mail(smtp_sink["outbox"], 2) if m.to == "x@x.nl")
    assert "<script>" not in welcome.html and "&lt;script&gt;" in welcome.html


def test_a_path_like_file_name_is_only_a_name(admin_client, app_ctx, tmp_path):
    data = b"email;first_name;last_name\r\nbad;A;B\r\n"
    _, public_id = upload(admin_client, data, filename="../../etc/passwd.csv")
    run = db.session.scalar(select(ImportRun).where(ImportRun.public_id == public_id))
    assert run.filename == "passwd.csv"
    download = admin_client.get(f"/imports/{public_id}/problems.csv")
    disposition = download.headers["Content-Disposition"]
    assert "/" not in disposition and ".." not in disposition.split("filename=")[1].strip('"')


def test_a_zip_bomb_workbook_is_refused_at_once(admin_client, app_ctx):
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            for _ in range(700):
                sheet.write(b"<row/>" * 200_000)  # 840 MB of XML, ~1 MB packed
    # (Read, this would take minutes and gigabytes: the test would not finish.)
    page, _ = upload(admin_client, packed.getvalue(), filename="bomb.xlsx")
    assert "far more than a list of users takes" in page.get_data(as_text=True)


def _workbook_with_sheet_xml(change) -> bytes:
    """A two-user workbook whose sheet XML went through ``change``."""
    book = openpyxl.Workbook()
    for row in (["email", "first_name", "last_name"], ["anna@x.nl", "Anna", "Jansen"]):
        book.active.append(row)
    saved = io.BytesIO()
    book.save(saved)
    source = zipfile.ZipFile(saved)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in source.namelist():
            data = source.read(name)
            archive.writestr(name, change(data) if name == "xl/worksheets/sheet1.xml" else data)
    return out.getvalue()


def test_a_workbook_claiming_billions_of_cells_is_read_by_what_it_holds(admin_client, app_ctx):
    # The sheet says it spans every cell Excel has (A1:XFD1048576, 17 billion cells).
    claims = _workbook_with_sheet_xml(
        lambda xml: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', xml)
    )
    page, public_id = upload(admin_client, claims, filename="claims.xlsx")
    assert "anna@x.nl" in page.get_data(as_text=True)
    run = db.session.scalar(select(ImportRun).where(ImportRun.public_id == public_id))
    assert (run.rows_total, run.new_count) == (1, 1)

    # One real cell in Excel's very last row and column: a 5 KB file, a million blank rows.
    far = _workbook_with_sheet_xml(
        lambda xml: xml.replace(
            b"</sheetData>",
            b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
            b"</sheetData>",
        )
    )
    assert len(far) < 10_000
    _, public_id = upload(admin_client, far, filename="far.xlsx")
    db.session.expire_all()
    run = db.session.scalar(select(ImportRun).where(ImportRun.public_id == public_id))
    assert run.new_count == 1  # Anna; the far row has no e-mail address: invalid
    assert run.blank_lines == 1_048_573
