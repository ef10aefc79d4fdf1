"""``/account/tokens``: the signed-in user's personal API tokens (create, list, revoke).

A plain Flask page with HTML forms, so Flask-WTF's CSRF token and the same-origin check protect
every change; the new token is shown once in the response to its creation and never again
(only its hash is stored). Every user may hold ``read`` tokens; the scopes offered and accepted
follow the role (:func:`app.auth.tokens.allowed_scopes`), checked again on the server.
"""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request
from flask_login import current_user

from app.auth import tokens
from app.extensions import db
from app.models.api_token import TOKEN_SCOPES
from app.models.user import utcnow
from app.theme import ICONS_CSS, THEME_CSS

bp = Blueprint("api_tokens_page", __name__, template_folder="../templates")


def _page(status: int = 200, **ctx):
    ctx.setdefault("error", None)
    ctx.setdefault("new_token", None)
    ctx.setdefault("form", {})
    rows = tokens.list_tokens(db.session, current_user.id, include_dead=True)
    return render_template("tokens.html", theme_css=THEME_CSS, icons_css=ICONS_CSS, tokens=rows,
                           scopes=TOKEN_SCOPES, allowed=tokens.allowed_scopes(current_user.role),
                           email=current_user.email, role=current_user.role, max_days=tokens.MAX_DAYS,
                           default_days=tokens.DEFAULT_DAYS, now=utcnow(), **ctx), status


@bp.get("/account/tokens")
def tokens_page():
    return _page()


@bp.post("/account/tokens")
def create():
    form = {"name": request.form.get("name", ""), "expires_days": request.form.get("expires_days", ""),
            "scopes": request.form.getlist("scopes")}
    try:
        row, token = tokens.create_token(db.session, current_user, form["name"], form["scopes"],
                                         form["expires_days"])
    except tokens.TokenError as exc:
        db.session.rollback()
        return _page(400, error=str(exc), form=form)
    response = _page(201, new_token=token, new_name=row.name)
    return response[0], response[1], {"Cache-Control": "no-store"}


@bp.post("/account/tokens/<int:token_id>/revoke")
def revoke(token_id: int):
    if not tokens.revoke_token(db.session, current_user.id, token_id):
        return _page(404, error="No such live token.")
    return redirect("/account/tokens")
