"""Login and logout as plain Flask routes.

Sign-in: CSRF token (Flask-WTF) and same-origin check (app.ops.security) first; Flask-Limiter's
per-IP limit; the per-account growing delay of :mod:`app.auth.throttle`; then the password.
A successful sign-in ends the browser's previous session, starts a new server-side one
(:mod:`app.auth.sessions`) and marks the browser as a known device for that account.
Sign-out is a POST (with the CSRF token) that revokes the server-side session.
"""
from __future__ import annotations

import math
import time

from flask import Blueprint, current_app, make_response, redirect, render_template, request, session
from flask_limiter import RateLimitExceeded
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError

from app.audit.log import Actor, record
from app.auth import sessions, throttle
from app.auth.guard import safe_next
from app.auth.users import authenticate
from app.extensions import client_ip, db, limiter
from app.theme import ICONS_CSS, THEME_CSS

bp = Blueprint("auth", __name__, template_folder="../templates")


def _settings():
    return current_app.config["CW_SETTINGS"]


def _failed(response) -> bool:
    # Only failed attempts count towards the per-IP limit; a successful login redirects.
    return response.status_code != 302


def _page(status: int = 200, **ctx):
    ctx.setdefault("error", None)
    ctx.setdefault("message", None)
    ctx.setdefault("email", "")
    ctx.setdefault("next", safe_next(request.args.get("next")))
    return render_template("login.html", theme_css=THEME_CSS, icons_css=ICONS_CSS, **ctx), status


def _throttle() -> throttle.LoginThrottle:
    s = _settings()
    return throttle.LoginThrottle(limiter.storage, f"{s.redis_prefix}:ratelimit",
                                  throttle.DelayPolicy.from_settings(s.login_limit_account, s.login_delay_max_s))


@bp.get("/login")
def login_form():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    msg = "You have been signed out." if request.args.get("bye") else None
    return _page(message=msg)


def _slow_down(email: str, wait: int, message: str):
    body, status = _page(429, error=message.format(wait=wait), email=email)
    response = make_response(body, status)
    response.headers["Retry-After"] = str(wait)
    return response


def _ip_limit() -> str:
    return _settings().login_limit_ip


@bp.post("/login")
@limiter.limit(_ip_limit, deduct_when=_failed, methods=["POST"])
def login_submit():
    email = request.form.get("email", "")
    password = request.form.get("password", "")
    if not isinstance(email, str) or not email.strip() or not password:
        return _page(400, error="Enter your e-mail and password.", email=email)
    secret = current_app.config["SECRET_KEY"]
    device = throttle.read_device(secret, request.cookies.get(throttle.DEVICE_COOKIE))
    keys = throttle.attempt_keys(email, client_ip(), device)
    guard = _throttle()
    budget = throttle.Budget.from_settings(_settings().login_limit_account_total)
    wait = guard.wait_s(keys.delay_key)
    if wait:
        return _slow_down(email, wait, "Too many failed sign-in attempts for this account. Try again in {wait} s.")
    if keys.budget_key and (wait := guard.budget_wait_s(keys.budget_key, budget)):
        return _slow_down(email, wait, "Too many failed sign-in attempts for this account from many places. "
                                       "Sign in from a browser you have used before, or try again in {wait} s.")
    result = authenticate(email, password)
    if result.user is None:
        record(db.session, "sign_in.failure", Actor(email.strip()[:254] or "anonymous", None, client_ip()),
               after={"reason": result.error})
        db.session.commit()
        guard.failed(keys.delay_key)
        if keys.budget_key:
            guard.spend_budget(keys.budget_key, budget)
        return _page(401, error=result.error, email=email)
    if keys.budget_key is None:
        guard.reset(keys.delay_key)  # a known device that got it right starts afresh
    sessions.revoke_session(session.get("_user_id"))  # the browser's previous session, if any
    session.clear()  # a new session: nothing set before sign-in carries over
    record(db.session, "sign_in.success", Actor.of(result.user, client_ip()), target=result.user.email)
    sessions.start_session(result.user, user_agent=request.headers.get("User-Agent"), ip=client_ip())
    login_user(result.user)
    response = redirect(safe_next(request.args.get("next")))
    response.set_cookie(throttle.DEVICE_COOKIE, throttle.new_device(secret, result.user.email),
                        max_age=throttle.DEVICE_MAX_AGE_S, httponly=True, samesite="Lax",
                        secure=_settings().session_cookie_secure, path="/login")
    return response


@bp.get("/logout")
def logout_get():
    """Signing out changes state: only the navbar's POST form (with its CSRF token) does it."""
    return ("Sign out with the button in the navigation bar.", 405,
            {"Allow": "POST", "Content-Type": "text/plain; charset=utf-8"})


@bp.post("/logout")
def logout():
    sessions.revoke_session(session.get("_user_id"))
    logout_user()
    session.clear()
    return redirect("/login?bye=1")


@bp.app_errorhandler(CSRFError)
def bad_csrf(exc: CSRFError):
    if request.path == "/login":
        return _page(400, error="The sign-in form has expired or did not come from this site. Please sign in again.",
                     email=request.form.get("email", ""))
    if request.path == "/logout":
        return ("The sign-out form has expired or did not come from this site. Reload the page and sign out again.",
                400, {"Content-Type": "text/plain; charset=utf-8"})
    return {"error": "missing or invalid CSRF token", "detail": exc.description}, 400


@bp.app_errorhandler(RateLimitExceeded)
def too_many(exc: RateLimitExceeded):
    if request.path == "/login":
        body, status = _page(
            429,
            error="Too many failed sign-in attempts from your network. Wait a minute and try again.",
            email=request.form.get("email", ""),
        )
        response = make_response(body, status)
    else:
        response = make_response({"error": "rate limit exceeded", "limit": str(exc.description)}, 429)
    current = limiter.current_limit  # the limit this request broke
    if current is not None:
        response.headers["Retry-After"] = str(max(1, math.ceil(current.reset_at - time.time())))
    return response
