"""``/account/password``: the signed-in user chooses a new password.

A plain Flask page with an HTML form (as ``/account/tokens``), so Flask-WTF's CSRF token and the
same-origin check protect the change; failed attempts count towards the sign-in's per-IP limit.
The change itself is :func:`app.auth.password_change.change_own_password`; a user who was sent here
by the forced change (``app.auth.forced``) goes on to where they were going.
"""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session
from flask_login import current_user

from app.auth.forced import CHANGE_PATH, MESSAGE, must_change
from app.auth.guard import safe_next
from app.models.user import User
from app.auth.password_change import PasswordChangeError, change_own_password
from app.auth.passwords import MIN_LENGTH
from app.extensions import client_ip, db, limiter
from app.theme import ICONS_CSS, THEME_CSS

bp = Blueprint("account_password", __name__, template_folder="../templates")


def _page(status: int = 200, **ctx):
    ctx.setdefault("error", None)
    ctx.setdefault("field", None)
    return render_template("password.html", theme_css=THEME_CSS, icons_css=ICONS_CSS, email=current_user.email,
                           role=current_user.role, forced=must_change(current_user), forced_message=MESSAGE,
                           min_length=MIN_LENGTH, next=safe_next(request.args.get("next")), **ctx), status


def _ip_limit() -> str:
    return current_app.config["CW_SETTINGS"].login_limit_ip


def _failed(response) -> bool:
    return response.status_code != 302


@bp.get(CHANGE_PATH)
def form():
    return _page()


@bp.post(CHANGE_PATH)
@limiter.limit(_ip_limit, deduct_when=_failed, methods=["POST"])
def submit():
    f = request.form
    try:
        me = db.session.get(User, current_user.id)  # the row: a cached session check carries no password hash
        change_own_password(db.session, me, f.get("current_password"), f.get("new_password"),
                            f.get("confirm_password"), keep_session=session.get("_user_id"), ip=client_ip())
        db.session.commit()
    except PasswordChangeError as exc:
        db.session.rollback()
        return _page(400, error=str(exc), field=exc.field)
    return redirect(safe_next(request.args.get("next")))
