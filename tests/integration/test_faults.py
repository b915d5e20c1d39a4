"""Faults with real processes: the process running an import is killed in the middle, alone
(RQ's worker sees it) or with its whole worker (nothing tells RQ)."""

import os
import signal
import time

import pytest
from rq.job import Job
from sqlalchemy import func, select

from huddle import jobs, progress, queue
from huddle.extensions import db
from huddle.imports import drafts
from huddle.imports.created import every_row
from huddle.models import ImportRun, Level, User, UserLevel

from ..helpers import csv_file, wait_until, worker_env, worker_running

ROWS = 50_000


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
        return state if state and 2000 <= state["done"] < ROWS else None

    # Asked often: the whole import takes about a second.
    state = wait_until(120, writing, "the import to be writing", every=0.01)
    try:
        os.kill(state["pid"], signal.SIGKILL)
    except ProcessLookupError:
        pytest.fail(f"the import ended before it could be killed, at {state['done']} rows")

    # RQ's retry runs it again (after its 10 seconds); the killed attempt left nothing.
    wait_until(180, lambda: _status(run_id) == "done", "the retried import to finish")
    users = db.session.scalar(select(func.count()).select_from(User).where(~User.is_admin))
    grants = db.session.scalar(select(func.count()).select_from(UserLevel))
    lines = [line for line, *_ in every_row(run_id)]
    assert (users, grants, lines) == (ROWS, ROWS, list(range(2, ROWS + 2)))
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


def test_an_import_whose_whole_worker_is_killed_is_noticed_within_a_minute(
    admin_client, admin, app, smtp_sink
):
    with app.app_context():
        data = csv_file(*(f"user{i}@x.nl;User;;{i};;;;;" for i in range(ROWS)))
        run = drafts.create_draft("groot.csv", data, admin=admin)
        run.notify_new = False
        db.session.commit()
        assert drafts.start(run)
        run_id, public_id = run.id, run.public_id

    def writing():
        state = progress.read("import", run_id)
        return state if state and state["done"] > 0 else None

    progress_part = f"/imports/{public_id}/progress"
    with worker_running(worker_env(app, smtp_sink)) as worker, app.app_context():
        state = wait_until(120, writing, "the import to be writing")
        # The worker and the child running the job (RQ gives it a session of its own), as
        # when the machine dies: no word to RQ.
        os.killpg(worker.pid, signal.SIGKILL)
        os.kill(state["pid"], signal.SIGKILL)
        killed = time.monotonic()
        assert _status(run_id) == "running"  # killed in the middle, not after the commit

        def page_says_so():
            page = admin_client.get(progress_part, headers={"HX-Request": "true"})
            return "The background process running this import stopped after" in page.get_data(
                as_text=True
            )

        wait_until(60, page_says_so, "the import page to say its process stopped")
        assert time.monotonic() - killed < 60
        assert _status(run_id) == "queued"  # tried once more: the rule for a killed job
        users = db.session.scalar(select(func.count()).select_from(User).where(~User.is_admin))
        assert users == 0  # nothing of the killed attempt was kept

    # A worker again (as `make run` restarts one): the retry imports everything, once.
    with worker_running(worker_env(app, smtp_sink)), app.app_context():
        wait_until(180, lambda: _status(run_id) == "done", "the retried import to finish")
        users = db.session.scalar(select(func.count()).select_from(User).where(~User.is_admin))
        assert users == ROWS


def test_an_import_goes_on_when_the_queue_cannot_be_reached(app, admin, app_ctx, monkeypatch):
    run = drafts.create_draft(
        "klein.csv", csv_file("a@x.nl;A;;B;;;;;", "b@x.nl;B;;C;;;;;"), admin=admin
    )
    assert drafts.start(run)
    # Redis goes away once the job has started: its progress and heartbeat cannot be written.
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")  # nothing there
    outcome = jobs.run_import(run.id)

    assert outcome == "import done; its mails wait for the queue"
    assert _status(run.id) == "done"  # the progress was lost, not the import
    emails = set(db.session.scalars(select(User.email).where(~User.is_admin)))
    assert emails == {"a@x.nl", "b@x.nl"}
