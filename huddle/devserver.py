"""``flask dev``: the whole app in one terminal, stopped together by Ctrl-C.

Starts the embedded Redis (when no REDIS_URL), the mail sink (when no MAIL_SERVER), two worker
processes (one for imports and exports, one for the users' mails, so that a batch of 20,000
welcome mails holds up neither) and the web server, in that order, and stops them in reverse.

While it runs it keeps watch: a worker that died is started again, and so is the embedded
Redis (then the workers too, to connect to it), each said in the terminal.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import threading

import click
import psutil
from flask import Flask
from werkzeug.serving import run_simple

from . import devmail, queue

WORKER = (sys.executable, "-m", "flask", "--app", "app", "worker")
WORKER_QUEUES = ("imports,exports", "mails")
WATCH_SECONDS = 2


def _stop_like_ctrl_c(_signum, _frame) -> None:
    raise KeyboardInterrupt


class Workers:
    """The worker processes, one per entry of ``WORKER_QUEUES``, kept running."""

    def __init__(self):
        self.processes = {queues: self._start(queues) for queues in WORKER_QUEUES}

    @staticmethod
    def _start(queues: str) -> subprocess.Popen:
        return subprocess.Popen([*WORKER, "--queues", queues])

    def restart_dead(self) -> None:
        for queues, process in self.processes.items():
            code = process.poll()
            if code is not None:
                click.echo(f"Worker for {queues} stopped (exit code {code}); starting it again.")
                self.processes[queues] = self._start(queues)

    def restart_all(self) -> None:
        self.stop()
        self.processes = {queues: self._start(queues) for queues in WORKER_QUEUES}

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def _keep_watch(config, workers: Workers, stopping: threading.Event) -> None:
    """Every few seconds: the embedded Redis answers (else it starts again, and the workers
    with it), and every worker runs (else it starts again)."""
    while not stopping.wait(WATCH_SECONDS):
        if not config["REDIS_URL"]:
            try:
                queue.connect(config).ping()
            except queue.REDIS_DOWN:
                click.echo("The embedded Redis stopped; starting it again, and the workers.")
                try:
                    queue.restart_embedded_server(config)
                except Exception as exc:  # noqa: BLE001 (said, and tried again next round)
                    click.echo(f"The embedded Redis did not start: {exc}")
                    continue
                workers.restart_all()
                continue
        workers.restart_dead()


def _start_web(host: str, port: int) -> subprocess.Popen | None:
    """The app served by gunicorn with a worker per core, as deployed, so that what an admin
    tries here is as fast as in production; None where gunicorn does not run (Windows):
    then Werkzeug's server serves it."""
    if importlib.util.find_spec("gunicorn") is None or os.name != "posix":
        return None
    workers = str(os.cpu_count() or 2)
    command = [sys.executable, "-m", "gunicorn", "-w", workers, "-b", f"{host}:{port}", "app:app"]
    return subprocess.Popen([*command, "--log-level", "warning"])


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_dev(app: Flask, host: str, port: int) -> None:
    """Run web, worker, embedded Redis and the mail sink until Ctrl-C or SIGTERM."""
    config = app.config
    # This process owns the embedded Redis: it starts it now and stops it on exit.
    queue.connect(config).ping()
    click.echo(f"Queue:  {config['REDIS_URL'] or 'embedded Redis at ' + config['REDIS_DB_FILE']}")

    sink = None
    if config["DEV_MAIL_SINK"]:
        sink = devmail.start_sink(config["OUTBOX_DIR"], port=config["MAIL_PORT"])
        click.echo(f"Mail:   dev sink on 127.0.0.1:{config['MAIL_PORT']}, see /outbox")
    else:
        click.echo(f"Mail:   {config['MAIL_SERVER']}:{config['MAIL_PORT']}")

    # A `kill` (SIGTERM) stops everything too, like Ctrl-C: otherwise the worker and the
    # embedded Redis would live on without us.
    signal.signal(signal.SIGTERM, _stop_like_ctrl_c)
    workers = Workers()
    stopping = threading.Event()
    watch = threading.Thread(target=_keep_watch, args=(config, workers, stopping), daemon=True)
    watch.start()
    click.echo(f"Web:    http://{host}:{port}/  (Ctrl-C stops everything)")
    web = _start_web(host, port)
    try:
        if web is None:
            run_simple(host, port, app, threaded=True)
        else:
            web.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stopping.set()
        watch.join()
        if web is not None:
            _stop(web)
        workers.stop()
        _stop_leftovers()
        if sink is not None:
            sink.stop()
        queue.stop_embedded_server()


def _stop_leftovers() -> None:
    """Kill any process this one started that still runs: a worker started again while the
    watch ended can be one no list knows of, and it would hold the terminal's output open
    after we are gone."""
    leftovers = psutil.Process().children(recursive=True)
    for process in leftovers:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            continue
    psutil.wait_procs(leftovers, timeout=10)
