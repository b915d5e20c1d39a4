"""A large upload is checked by a worker, not within the web request: the admin sees how far
the check has got, and then the preview, as for any file."""

import io

import pytest
import xlsxwriter
from sqlalchemy import select

from huddle.extensions import db
from huddle.models import ImportRun

from ..helpers import HEADER, all_exit_cleanly, csv_file, start_worker, upload, worker_env

HTMX = {"HX-Request": "true"}


@pytest.fixture
def small_limit(app, monkeypatch):
    # What counts as large, lowered so that a test file is: 200 KB to read.
    monkeypatch.setitem(app.config, "IMPORT_CHECK_IN_WORKER_BYTES", 200_000)


def _people(count: int) -> list[str]:
    return [f"user{i}@example.org;Anna;van;Dijk {i};;;;nl;" for i in range(count)]


def _workbook(count: int) -> bytes:
    """A workbook as a script writes one with xlsxwriter (https://xlsxwriter.readthedocs.io):
    small zipped, several times larger unpacked."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out)
    sheet = book.add_worksheet("Leden")
    sheet.write_row(0, 0, HEADER.split(";"))
    for row, line in enumerate(_people(count), start=1):
        sheet.write_row(row, 0, line.split(";"))
    book.close()
    return out.getvalue()


def _run(public_id: str) -> ImportRun:
    db.session.expire_all()
    return db.session.scalar(select(ImportRun).where(ImportRun.public_id == public_id))


def test_a_large_file_is_checked_by_a_worker_and_its_progress_shown(
    admin_client, app, smtp_sink, small_limit
):
    page, public_id = upload(admin_client, csv_file(*_people(5000)))
    html = page.get_data(as_text=True)
    assert _run(public_id).status == "checking"
    assert "Checking people.csv" in html and 'id="checking"' in html
    assert "background jobs are not running" in html  # none runs yet: said, not a spinner
    # The later steps wait for the check: they lead back to the preview page.
    levels = admin_client.get(f"/imports/{public_id}/levels")
    assert levels.status_code == 302 and levels.headers["Location"].endswith("/check")

    all_exit_cleanly([start_worker(worker_env(app, smtp_sink), "--burst")])

    run = _run(public_id)
    assert (run.status, run.rows_total, run.new_count) == ("draft", 5000, 5000)
    polled = admin_client.get(f"/imports/{public_id}/checking", headers=HTMX)
    assert polled.headers.get("HX-Refresh") == "true"  # done: the page reloads
    html = admin_client.get(f"/imports/{public_id}/check").get_data(as_text=True)
    assert "5,000 rows" in html and "user0@example.org" in html
    assert 'id="checking"' not in html


def test_a_workbook_counts_by_its_size_unpacked(admin_client, app, smtp_sink, small_limit):
    data = _workbook(3000)
    assert len(data) < 200_000  # small as uploaded, large to read
    _page, public_id = upload(admin_client, data, "leden.xlsx")
    assert _run(public_id).status == "checking"
    all_exit_cleanly([start_worker(worker_env(app, smtp_sink), "--burst")])
    assert (_run(public_id).status, _run(public_id).rows_total) == ("draft", 3000)


def test_a_small_file_is_checked_at_once(admin_client, small_limit):
    page, public_id = upload(admin_client, csv_file(*_people(50)))
    assert _run(public_id).status == "draft"
    assert 'id="checking"' not in page.get_data(as_text=True)


def test_a_check_whose_job_is_lost_says_so(admin_client, small_limit):
    _page, public_id = upload(admin_client, csv_file(*_people(5000)))
    run = _run(public_id)
    run.job_id = "a-job-redis-no-longer-knows"  # its worker was killed, and the retry too
    db.session.commit()
    html = admin_client.get(f"/imports/{public_id}/check").get_data(as_text=True)
    assert _run(public_id).status == "rejected"
    assert "Checking this file stopped unexpectedly" in html
    assert "Upload another file instead" in html  # and the way on is right there
