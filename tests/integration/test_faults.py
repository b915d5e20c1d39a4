"""Faults with real processes: the process running an import is killed in the middle."""

import os
import signal
import time

from rq.job import Job
from sqlalchemy import func, select

from huddle import progress, queue
from huddle.extensions import db
from huddle.imports import drafts
from huddle.models import ImportRow, ImportRun, Level, User, UserLevel

from ..helpers import csv_file

ROWS = 50_000


def _wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _status(run_id: int) -> str:
    db.session.expire_all()
    return db.session.get(ImportRun, run_id).status


def test_an_import_whose_process_is_killed_is_retried_and_imports_everything_once(
    app, admin, app_ctx, worker_process
):
    level = Level(name="A")
    db.session.add(level)
    db.session.commit()
    data = csv_file(*(f"user{i}@x.nl;User;;{i};;;;;" for i in range(ROWS)))
    run = drafts.create_draft("groot.csv", data, admin=admin)
    # Straight to the job, which checks the file again itself (no second preview).
    run.level_ids, run.notify_new = [level.id], False
    db.session.commit()
    run_id = run.id
    assert drafts.start(run)

    # Kill the process that runs the import (RQ's forked child) while it writes rows.
    def writing():
        state = progress.read("import", run_id)
        return state if state and state["done"] >= 2000 else None

    state = _wait_for(writing, 120, "the import to be writing")
    os.kill(state["pid"], signal.SIGKILL)

    # RQ's retry runs it again (after its 10 seconds); the killed attempt left nothing.
    _wait_for(lambda: _status(run_id) == "done", 180, "the retried import to finish")
    users = db.session.scalar(select(func.count()).select_from(User).where(~User.is_admin))
    grants = db.session.scalar(select(func.count()).select_from(UserLevel))
    rows = db.session.scalar(
        select(func.count()).select_from(ImportRow).where(ImportRow.import_id == run_id)
    )
    assert (users, grants, rows) == (ROWS, ROWS, ROWS)
    finished = db.session.get(ImportRun, run_id)
    assert finished.new_count == ROWS
    # It took RQ's retry (the first attempt was killed), not a lucky first run.
    assert Job.fetch(finished.job_id, connection=queue.get_redis()).retries_left == 0


def test_a_lost_import_is_shown_as_failed_and_can_be_started_again(admin_client, admin, app):
    with app.app_context():
        run = drafts.create_draft("klein.csv", csv_file("a@x.nl;A;;B;;;;;"), admin=admin)
        assert drafts.start(run)
        public_id, run_id, job_id = run.public_id, run.id, run.job_id
        # What RQ does when the process and its retry were killed: the job ends failed.
        job = Job.fetch(job_id, connection=queue.get_redis())
        job.set_status("failed")

    page = admin_client.get(f"/imports/{public_id}").get_data(as_text=True)
    assert "The import stopped unexpectedly" in page and "Start the import again" in page
    response = admin_client.post(
        f"/imports/{public_id}/again", data={"csrf_token": admin_client.csrf}
    )
    assert response.status_code == 302
    with app.app_context():
        assert _status(run_id) == "queued"
