"""The real `flask worker` command, as a separate process forking a child per job."""

import subprocess
import sys

from rq import Queue

from huddle import jobs, queue

from ..helpers import ROOT, make_user, run_worker, wait_for_mail, worker_env


def test_worker_command_runs_a_mail_job_in_a_forked_child(app, app_ctx, smtp_sink):
    user = make_user("worker@example.org", first_name="Wim")
    queue.enqueue(jobs.mail_set_password_link, user.id)

    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "worker", "--burst"],
        cwd=ROOT,
        env=worker_env(app, smtp_sink),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Successfully completed huddle.jobs.mail_set_password_link" in result.stdout

    [message] = wait_for_mail(smtp_sink["outbox"])
    assert message.to == "worker@example.org"
    assert message.text.startswith("Hello Wim,")
    assert "http://huddle.test/set-password/" in message.text
    assert queue.get_queue().count == 0


def test_a_job_queued_by_an_earlier_version_still_runs(app, app_ctx, smtp_sink):
    # Earlier versions had one queue, named RQ_QUEUE; a job left there at an upgrade runs.
    user = make_user("olga@example.org", first_name="Olga")
    legacy = Queue(app.config["RQ_QUEUE"], connection=queue.get_redis())
    legacy.enqueue("huddle.jobs.mail_set_password_link", user.id)
    run_worker(app)
    [message] = wait_for_mail(smtp_sink["outbox"])
    assert message.to == "olga@example.org" and "/set-password/" in message.text
    assert legacy.count == 0
