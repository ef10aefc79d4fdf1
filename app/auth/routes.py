"""Login and logout as plain Flask routes, rate limited per IP and per account."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request
from flask_limiter import RateLimitExceeded
from flask_login import current_user, login_user, logout_user

from app.auth.guard import safe_next
from app.auth.users import authenticate
from app.extensions import limiter
from app.theme import ICONS_CSS, THEME_CSS

bp = Blueprint("auth", __name__, template_folder="../templates")



def _account_key() -> str:
    email = (request.form.get("email") or "").strip().lower()[:254]
    return f"login-account:{email}"


def _failed(response) -> bool:
    # Only failed attempts count towards the limits; a successful login redirects.
    return response.status_code != 302


def _page(status: int = 200, **ctx):
    ctx.setdefault("error", None)
    ctx.setdefault("message", None)
    ctx.setdefault("email", "")
    ctx.setdefault("next", safe_next(request.args.get("next")))
    return render_template("login.html", theme_css=THEME_CSS, icons_css=ICONS_CSS, **ctx), status


@bp.get("/login")
def login_form():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    msg = "You have been signed out." if request.args.get("bye") else None
    return _page(message=msg)


def _ip_limit() -> str:
    return current_app.config["CW_SETTINGS"].login_limit_ip


def _account_limit() -> str:
    return current_app.config["CW_SETTINGS"].login_limit_account


@bp.post("/login")
@limiter.limit(_ip_limit, deduct_when=_failed, methods=["POST"])
@limiter.limit(_account_limit, key_func=_account_key, deduct_when=_failed, methods=["POST"])
def login_submit():
    email = request.form.get("email", "")
    password = request.form.get("password", "")
    if not isinstance(email, str) or not email.strip() or not password:
        return _page(400, error="Enter your e-mail and password.", email=email)
    result = authenticate(email, password)
    if result.user is None:
        return _page(401, error=result.error, email=email)
    login_user(result.user)
    return redirect(safe_next(request.args.get("next")))


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    logout_user()
    return redirect("/login?bye=1")


@bp.app_errorhandler(RateLimitExceeded)
def too_many(exc: RateLimitExceeded):
    if request.path == "/login":
        return _page(
            429,
            error="Too many failed sign-in attempts. Wait a minute and try again.",
            email=request.form.get("email", ""),
        )
    return {"error": "rate limit exceeded", "limit": str(exc.description)}, 429
