"""Users > Manage (the list, searched and filtered page by page) and one user's page, where
an admin edits their fields and levels by hand."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from .. import htmx, progress
from ..bounds import int_arg
from ..exports import service as exports
from ..extensions import db
from ..imports.drafts import drafts_of
from ..levels.service import all_levels
from ..models import Level, User
from . import service
from .forms import AddLevelForm, UserForm
from .listing import UserQuery, list_users

bp = Blueprint("users", __name__)


@bp.get("/")
def index():
    """The start page is Users > Manage."""
    return redirect(url_for("users.manage"))


@bp.get("/users")
def manage():
    """The list of users; htmx asks for the table alone when searching or paging."""
    query = UserQuery.from_args(request.args)
    per_page = int_arg(request.args, "per_page", 50, low=10, high=200)
    page = list_users(query, per_page=per_page)
    context = {"query": query, "page": page, "levels": all_levels()}
    if htmx.wants_fragment():
        return render_template("users/_users_table.html", **context)
    context["drafts"] = drafts_of(current_user)
    context["export"] = exports.recent_export(current_user)
    if context["export"]:
        context["export_progress"] = progress.read("export", context["export"].id)
    return render_template("users/manage.html", **context)


def _user_or_404(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


def _level_form(user: User) -> AddLevelForm:
    form = AddLevelForm()
    owned = {level.id for level in user.levels}
    form.level_id.choices = [
        SelectChoice(lvl.id, lvl.name) for lvl in all_levels() if lvl.id not in owned
    ]
    return form


def _render_levels(user: User, status: int = 200):
    return (
        render_template(
            "users/_user_levels.html",
            user=user,
            grants=service.grants_of(user),
            level_form=_level_form(user),
        ),
        status,
    )


@bp.route("/users/<id:user_id>", methods=["GET", "POST"])
def detail(user_id: int):
    """One user: their fields (editable) and their levels."""
    user = _user_or_404(user_id)
    form = UserForm(obj=user)
    status = 200
    if form.validate_on_submit():
        if service.email_taken(form.email.data, except_user_id=user.id):
            form.email.errors.append(_("Another user already has this e-mail address."))
        else:
            changed = service.update_user(user, form.data)
            flash(
                _("Saved %(name)s.", name=user.full_name) if changed else _("Nothing changed."),
                "success",
            )
            return redirect(url_for("users.detail", user_id=user.id))
    if form.errors:
        status = 422
    return (
        render_template(
            "users/detail.html",
            user=user,
            form=form,
            grants=service.grants_of(user),
            level_form=_level_form(user),
        ),
        status,
    )


@bp.post("/users/<id:user_id>/levels")
def add_level(user_id: int):
    """Give the user a level by hand."""
    user = _user_or_404(user_id)
    form = _level_form(user)
    if not form.validate_on_submit():
        return _render_levels(user, 422)
    level = db.session.get(Level, form.level_id.data) or abort(404)
    service.grant_level(user, level, admin=current_user)
    db.session.refresh(user)
    if htmx.is_htmx():
        return _render_levels(user)
    return redirect(url_for(".detail", user_id=user_id))


@bp.post("/users/<id:user_id>/levels/<id:level_id>/remove")
def remove_level(user_id: int, level_id: int):
    """Take a level away from the user."""
    user = _user_or_404(user_id)
    level = db.session.get(Level, level_id) or abort(404)
    service.revoke_level(user, level)
    db.session.refresh(user)
    if htmx.is_htmx():
        return _render_levels(user)
    return redirect(url_for(".detail", user_id=user_id))
