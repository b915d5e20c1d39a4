"""The Levels page: create, rename, describe and delete access levels."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from ..extensions import db
from ..i18n import ngettext
from ..models import Level
from . import service
from .forms import LevelForm

bp = Blueprint("levels", __name__)


def _level_or_404(level_id: int) -> Level:
    return db.session.get(Level, level_id) or abort(404)


def _render_index(form: LevelForm, status: int = 200):
    return (
        render_template("levels/index.html", rows=service.levels_with_counts(), form=form),
        status,
    )


@bp.route("/levels", methods=["GET", "POST"])
def index():
    """The levels with their users, and a form for a new one."""
    form = LevelForm(prefix="new")
    if form.validate_on_submit():
        try:
            level = service.create_level(form.name.data, form.description.data)
        except service.LevelNameError as exc:
            form.name.errors.append(str(exc))
        else:
            flash(_("Level “%(name)s” created.", name=level.name), "success")
            return redirect(url_for(".index"))
    return _render_index(form, 422 if form.errors else 200)


@bp.route("/levels/<id:level_id>", methods=["GET", "POST"])
def edit(level_id: int):
    """Rename or describe a level."""
    level = _level_or_404(level_id)
    form = LevelForm(obj=level)
    if form.validate_on_submit():
        try:
            service.update_level(level, form.name.data, form.description.data)
        except service.LevelNameError as exc:
            form.name.errors.append(str(exc))
        else:
            flash(_("Level “%(name)s” saved.", name=level.name), "success")
            return redirect(url_for(".index"))
    status = 422 if form.errors else 200
    return render_template("levels/edit.html", level=level, form=form), status


@bp.route("/levels/<id:level_id>/delete", methods=["GET", "POST"])
def delete(level_id: int):
    """Delete a level, after saying how many users lose it."""
    level = _level_or_404(level_id)
    form = FlaskForm()  # only for the CSRF token
    if form.validate_on_submit():
        name = level.name
        lost = service.delete_level(level)
        flash(
            ngettext(
                "Level “%(name)s” deleted; %(num)s user lost it.",
                "Level “%(name)s” deleted; %(num)s users lost it.",
                lost,
                name=name,
            ),
            "success",
        )
        return redirect(url_for(".index"))
    return render_template(
        "levels/delete.html", level=level, form=form, user_count=service.user_count(level)
    )
