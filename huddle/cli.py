"""Commands for ``flask --app app ...``: admins, the worker, levels, demo data, the dev runner."""

from __future__ import annotations

import os
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from . import queue
from .extensions import db
from .levels import service as levels_service
from .mailing import external_url
from .models import User, normalise_email
from .tokens import make_set_password_token

levels_cli = AppGroup("levels", help="Manage access levels.")
users_cli = AppGroup("users", help="Import and export users.")
exports_cli = AppGroup("exports", help="The files of exports made on the web.")


def register_commands(app: Flask) -> None:
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
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise click.BadParameter(str(exc), param_hint="EMAIL") from exc
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
        link = external_url("auth.set_password", token=make_set_password_token(user))
        click.echo(f"Choose a password here: {link}")


WORKER_NICENESS = 10


@click.command("worker")
@click.option("--burst", is_flag=True, help="Work until the queue is empty, then stop.")
@click.option("--simple", is_flag=True, help="Run jobs in this process instead of forking.")
def worker(burst: bool, simple: bool) -> None:
    """Run a background worker on the app's queue."""
    app = current_app._get_current_object()
    # Jobs (and the processes they start) give way to web requests on a shared machine: an
    # import takes a little longer, while admins' pages stay quick.
    os.nice(WORKER_NICENESS)
    w = queue.make_worker(app, simple=simple)
    click.echo(f"Worker {w.name} on queue '{app.config['RQ_QUEUE']}'.")
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
    from .demo import create_demo_data

    if if_empty and db.session.scalar(select(User.id).limit(1)) is not None:
        return
    admin_email, password = create_demo_data(user_count)
    click.echo("")
    click.echo("  Demo data created. Log in at the address below with:")
    click.echo(f"    e-mail:   {admin_email}")
    click.echo(f"    password: {password}")
    click.echo("  (shown once; `flask --app app create-admin EMAIL` makes another admin)")
    click.echo("")


@click.command("dev")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
def dev(host: str, port: int) -> None:
    """Run everything for development: web, worker, embedded Redis and the mail sink."""
    from .devserver import run_dev

    run_dev(current_app._get_current_object(), host=host, port=port)


@users_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--level", "levels", multiple=True, help="Give every imported user this level.")
@click.option("--notify-new", is_flag=True, help="Mail new users a link to set a password.")
@click.option("--notify-existing", is_flag=True, help="Mail existing users who gain levels.")
@click.option("--dry-run", is_flag=True, help="Check the file and report; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
def users_import(path, levels, notify_new, notify_existing, dry_run, as_json) -> None:
    """Import users from a ;-separated CSV file (the template's columns)."""
    from .importing import commandline

    chosen = []
    for name in levels:
        level = levels_service.find_level(name)
        if level is None:
            raise click.UsageError(f"There is no level “{name}”. Create it with `levels add`.")
        chosen.append(level)
    with open(path, "rb") as handle:
        data = handle.read()
    report = commandline.import_file(
        data,
        filename=path.rsplit("/", 1)[-1],
        levels=chosen,
        notify_new=notify_new,
        notify_existing=notify_existing,
        dry_run=dry_run,
        progress=None if as_json else commandline.print_progress,
    )
    out = sys.stdout
    if as_json:
        commandline.write_json(report, out)
    else:
        commandline.write_text(report, dry_run, out)
    raise SystemExit(1 if report.status == "rejected" else 0)


@users_cli.command("export")
@click.option(
    "--level",
    "levels",
    multiple=True,
    help="Only users with this level (repeat for several: users with any of them).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, allow_dash=True),
    default="-",
    help="Write the file here; without it, or with -, a CSV goes to standard output.",
)
def users_export(levels, fmt, out) -> None:
    """Export users in the import template's columns (without --level: all users)."""
    from .exporting import write_export
    from .exporting.selection import with_levels

    names = []
    for name in levels:
        level = levels_service.find_level(name)
        if level is None:
            raise click.UsageError(f"There is no level “{name}”. See `levels add`.")
        names.append(level.name)
    selection = with_levels(names)
    if out == "-":
        if fmt == "xlsx":
            raise click.UsageError("An Excel file needs --out PATH.")
        count = write_export(selection, fmt, sys.stdout.buffer)
        sys.stdout.buffer.flush()
    else:
        with open(out, "wb") as handle:
            count = write_export(selection, fmt, handle)
    click.echo(f"Exported {count:,} users{'' if out == '-' else f' to {out}'}.", err=True)


@exports_cli.command("cleanup")
def exports_cleanup() -> None:
    """Delete the files of exports older than EXPORT_KEEP_DAYS (the export job does this
    too; run it from cron on a quiet site)."""
    from .exporting import cleanup_expired

    click.echo(f"Deleted the files of {cleanup_expired()} old export(s).")
