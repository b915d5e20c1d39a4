"""Logging in and out, forgotten passwords, set-password links, the language switch, and a
member's own page."""

from __future__ import annotations

import functools
import secrets
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from .. import queue
from ..extensions import db
from ..i18n import LANGUAGES, ngettext
from ..models import User, normalise_email
from ..tokens import LinkExpired, user_for_set_password_token
from ..users import service as users
from . import throttle
from .forms import ForgotPasswordForm, LoginForm, SetPasswordForm

bp = Blueprint("auth", __name__)


def _home_for(user: User) -> str:
    return url_for("users.manage") if user.is_admin else url_for("auth.account")


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths, so a crafted ?next= cannot send someone elsewhere."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login page; a correct password logs in (unless the brake is on)."""
    if current_user.is_authenticated:
        return redirect(_home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        email, address = form.email.data, request.remote_addr or ""
        wait = throttle.count_login_attempt(email, address)
        if wait:
            minutes = (wait + 59) // 60
            form.password.errors.append(
                ngettext(
                    "Too many failed log-ins. Try again in %(num)s minute, or use “Forgot your "
                    "password?”.",
                    "Too many failed log-ins. Try again in %(num)s minutes, or use “Forgot your "
                    "password?”.",
                    minutes,
                )
            )
            return render_template("auth/login.html", form=form), 429
        user = _user_by_email(email)
        if _password_matches(user, form.password.data):
            throttle.record_success(email, address)
            _fresh_session()
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")) or _home_for(user))
        # One message for an unknown address and a wrong password: no account probing.
        form.password.errors.append(_("That e-mail address and password do not match."))
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


def _password_matches(user: User | None, password: str) -> bool:
    """Whether ``password`` is ``user``'s, in the same time whether or not there is such a
    user (or they have no password yet): the answer's speed must not tell who has an
    account, so a made-up hash is checked when there is none."""
    if user is not None and user.has_password:
        return user.check_password(password)
    check_password_hash(_stand_in_hash(), password)
    return False


@functools.cache
def _stand_in_hash() -> str:
    # Made like every real one (the same method and cost), once per process.
    return generate_password_hash(secrets.token_urlsafe(16))


def _fresh_session() -> None:
    """Start a new session (and so a new CSRF token), keeping only the language chosen: what
    someone saw of the old one is worth nothing after logging in or out."""
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language


@bp.post("/logout")
def logout():
    """Log out everywhere (every session and remember cookie of the user ends) and go to the
    login page."""
    if current_user.is_authenticated:
        users.end_sessions(current_user)
    logout_user()
    _fresh_session()
    flash(_("You are logged out, on every device."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():
    """Ask for a set-password link by mail (the answer never tells who has an account)."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        wait, may_mail = throttle.count_reset_request(form.email.data, request.remote_addr or "")
        if wait:
            minutes = (wait + 59) // 60
            flash(
                ngettext(
                    "Too many requests for set-password links from your address. Try again in "
                    "%(num)s minute.",
                    "Too many requests for set-password links from your address. Try again in "
                    "%(num)s minutes.",
                    minutes,
                ),
                "error",
            )
            return render_template("auth/forgot_password.html", form=form), 429
        # Over the mailbox's limit, no mail, and the same answer: it tells nothing.
        user = _user_by_email(form.email.data) if may_mail else None
        try:
            if user is not None:
                # At the front: someone waits for this one, not for a batch of welcomes.
                queue.enqueue(
                    "huddle.jobs.mail_set_password_link", user.id, on="mails", at_front=True
                )
            else:
                queue.check_available()  # so the answer does not tell who has an account
        except queue.QueueUnavailable:
            flash(_("We cannot send mail right now. Please try again in a few minutes."), "error")
            return render_template("auth/forgot_password.html", form=form), 503
        # Same answer whether or not the address is known.
        flash(
            _(
                "If an account exists for that address, a link to choose a new password is "
                "on its way. Check your inbox (and spam folder)."
            ),
            "success",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    """Choose a password with a link from a mail (once, before it expires)."""
    try:
        user = user_for_set_password_token(token)
    except LinkExpired:
        return render_template("auth/link_invalid.html", reason="expired"), 410
    if user is None:
        return render_template("auth/link_invalid.html", reason="invalid"), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        users.set_password(user, form.password.data)  # which ends their sessions
        logout_user()
        _fresh_session()
        flash(_("Your password is set. You can log in now."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/set_password.html", form=form, user=user)


@bp.get("/account")
def account():
    """A logged-in user's own page."""
    return render_template("auth/account.html", user=current_user)


@bp.post("/language")
def set_language():
    """The language switch in the header: kept as the user's own setting when logged in
    (their pages and mails follow it), else for this browser session."""
    language = request.form.get("language", "")
    if language in LANGUAGES:
        if current_user.is_authenticated:
            users.set_language(current_user, language)
        else:
            session["language"] = language
    return redirect(_safe_next(request.form.get("next")) or url_for("auth.login"))
