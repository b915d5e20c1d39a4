"""Commands for ``flask --app app ...``: admins, the worker, levels, demo data, the dev runner,
and (in users.py) importing and exporting users."""

from __future__ import annotations

import os

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from .. import queue
from ..demo import DEMO_ADMIN_EMAIL, create_demo_data
from ..devserver import run_dev
from ..exports.service import cleanup_expired
from ..extensions import db
from ..levels import service as levels_service
from ..models import User, normalise_email
from ..pipeline.addresses import check_email
from ..tokens import set_password_link
from .users import users_cli

levels_cli = AppGroup("levels", help="Manage access levels.")
exports_cli = AppGroup("exports", help="The files of exports made on the web.")


def register_commands(app: Flask) -> None:
    """Add every command to the app's ``flask`` command line."""
    app.cli.add_command(create_admin)
    app.cli.add_command(worker)
    app.cli.add_command(levels_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_data)
    app.cli.add_command(dev)
    app.cli.add_command(exports_cli)


@click.command("create-admin")
@click.argument("email")
@click.option("--password", help="Set this password. Without it, a set-password link is printed.")
@click.option("--first-name", default="Admin", show_default=True)
@click.option("--last-name", default="Huddle", show_default=True)
def create_admin(email: str, password: str | None, first_name: str, last_name: str) -> None:
    """Create an admin, or make an existing user admin."""
    _normalised, problem = check_email(email)
    if problem:
        raise click.BadParameter(problem, param_hint="EMAIL")
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    created = user is None
    if created:
        user = User(email=normalise_email(email), first_name=first_name, last_name=last_name)
        db.session.add(user)
    user.is_admin = True
    if password:
        user.set_password(password)
    db.session.commit()
    click.echo(f"{'Created' if created else 'Promoted'} admin {user.email}.")
    if not user.has_password:
        click.echo(f"Choose a password here: {set_password_link(user)}")


WORKER_NICENESS = 10


@click.command("worker")
@click.option("--burst", is_flag=True, help="Work until the queues are empty, then stop.")
@click.option("--simple", is_flag=True, help="Run jobs in this process instead of forking.")
@click.option(
    "--queues",
    default=",".join(queue.QUEUES),
    show_default=True,
    help="The queues to take jobs from, most urgent first (e.g. 'mails' for a mail worker).",
)
def worker(burst: bool, simple: bool, queues: str) -> None:
    """Run a background worker on the app's queues."""
    app = current_app._get_current_object()
    chosen = [name.strip() for name in queues.split(",") if name.strip()]
    try:
        w = queue.make_worker(app, queues=chosen, simple=simple)
    except queue.UnknownQueue as exc:
        raise click.BadParameter(str(exc), param_hint="--queues") from exc
    # Jobs (and the processes they start) give way to web requests on a shared machine: an
    # import takes a little longer, while admins' pages stay quick.
    os.nice(WORKER_NICENESS)
    click.echo(f"Worker {w.name} on queues {', '.join(chosen)}.")
    w.work(burst=burst, with_scheduler=True)


@levels_cli.command("add")
@click.argument("name")
@click.option("--description", default="", help="What the level gives access to.")
def levels_add(name: str, description: str) -> None:
    """Create a level (nothing happens when it exists)."""
    existing = levels_service.find_level(name)
    if existing is not None:
        click.echo(f"Level “{existing.name}” already exists.")
        return
    try:
        level = levels_service.create_level(name, description)
    except levels_service.LevelNameError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from exc
    click.echo(f"Created level “{level.name}”.")


@click.command("demo-data")
@click.option("--if-empty", is_flag=True, help="Only when the database has no users yet.")
@click.option("--users", "user_count", default=250, show_default=True)
def demo_data(if_empty: bool, user_count: int) -> None:
    """Create a demo admin, three levels and demo users."""
    if if_empty and db.session.scalar(select(User.id).limit(1)) is not None:
        _how_to_log_in()
        return
    admin_email, password = create_demo_data(user_count)
    click.echo("")
    click.echo("  Demo data created. Log in at the address below with:")
    click.echo(f"    e-mail:   {admin_email}")
    click.echo(f"    password: {password}")
    click.echo("  (shown once; `flask --app app create-admin EMAIL` makes another admin)")
    click.echo("")


def _how_to_log_in() -> None:
    """For a database that has users already: who can log in, and how to set a password
    that was lost (the demo admin's password is shown only when it is made)."""
    admin = db.session.scalar(
        select(User)
        .where(User.is_admin.is_(True))
        .order_by((User.email == DEMO_ADMIN_EMAIL).desc(), User.id)
        .limit(1)
    )
    click.echo("")
    if admin is None:
        click.echo("  No admin yet. Make one with:")
        click.echo("    .venv/bin/flask --app app create-admin EMAIL --password 'NEW PASSWORD'")
    else:
        click.echo(f"  Log in as {admin.email} with the password you were shown or chose.")
        click.echo("  Lost it? Set a new one with:")
        click.echo(
            f"    .venv/bin/flask --app app create-admin {admin.email} --password 'NEW PASSWORD'"
        )
    click.echo("")


@click.command("dev")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
def dev(host: str, port: int) -> None:
    """Run everything for development: web, worker, embedded Redis and the mail sink."""
    run_dev(current_app._get_current_object(), host=host, port=port)


@exports_cli.command("cleanup")
def exports_cleanup() -> None:
    """Delete the files of exports older than EXPORT_KEEP_DAYS (the export job does this
    too; run it from cron on a quiet site)."""
    click.echo(f"Deleted the files of {cleanup_expired()} old export(s).")
