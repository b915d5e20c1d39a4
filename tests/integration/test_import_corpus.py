"""Every file of the corpus (tests/fixtures/corpus.py) through the upload, as an admin would."""

import pytest
from sqlalchemy import select

from huddle.extensions import db
from huddle.models import ImportRow, ImportRun
from huddle.pipeline.reading import describe_reading

from ..fixtures.corpus import CASES, Case
from ..helpers import upload


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_the_corpus_file_reads_as_expected(admin_client, app_ctx, case: Case):
    page, public_id = upload(admin_client, case.data, filename=case.name)
    run = db.session.scalar(select(ImportRun).where(ImportRun.public_id == public_id))
    if case.file_problem:
        assert run.status == "rejected", run.reading
        assert "cannot be imported" in page.get_data(as_text=True)
        return
    assert run.status == "draft", run.file_error
    rows = db.session.scalars(
        select(ImportRow).where(ImportRow.import_id == run.id).order_by(ImportRow.line)
    ).all()
    good = [r for r in rows if r.action != "skip"]
    assert [
        (r.email, r.values["first_name"].strip(), r.values["last_name"].strip()) for r in good
    ] == case.users
    problems = [(r.line, column) for r in rows for column, _ in r.problems]
    assert problems == case.problems
    assert run.blank_lines == case.blank_lines
    if case.read_as:
        assert describe_reading(run.reading) == case.read_as
