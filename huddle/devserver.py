"""``flask dev``: the whole app in one terminal, stopped together by Ctrl-C.

Starts the embedded Redis (when no REDIS_URL), the mail sink (when no MAIL_SERVER), two worker
processes (one for imports and exports, one for the users' mails, so that a batch of 20,000
welcome mails holds up neither) and the web server, in that order, and stops them in reverse.
"""

from __future__ import annotations

import signal
import subprocess
import sys

import click
from flask import Flask
from werkzeug.serving import run_simple

from . import devmail, queue

WORKER = (sys.executable, "-m", "flask", "--app", "app", "worker")


def _stop_like_ctrl_c(_signum, _frame) -> None:
    raise KeyboardInterrupt


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
    workers = [
        subprocess.Popen([*WORKER, "--queues", queues]) for queues in ("imports,exports", "mails")
    ]
    click.echo(f"Web:    http://{host}:{port}/  (Ctrl-C stops everything)")
    try:
        run_simple(host, port, app, threaded=True)
    except KeyboardInterrupt:
        pass
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
        if sink is not None:
            sink.stop()
        queue.stop_embedded_server()
