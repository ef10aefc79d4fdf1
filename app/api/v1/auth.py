"""Bearer-token authentication and scope checks for ``/api/v1`` (never the session cookie).

Every resource blueprint calls :func:`install` so its ``before_request`` authenticates the token
before any view runs: no token, an unknown, revoked or expired one is a 401 with
``WWW-Authenticate: Bearer``. Views declare what they need with :func:`require` (``read``,
``trade``, ``admin``): the token's scopes *and* the user's current role must allow it (403).
Tokens are never logged: only the row id and the user id are put on ``g``.
"""
from __future__ import annotations

import functools

from flask import current_app, g, request
from flask_smorest import Blueprint, abort

from flask_limiter import RateLimitExceeded
from werkzeug.exceptions import HTTPException

from app.api.v1.problems import to_problem
from app.auth import tokens
from app.extensions import csrf, db, limiter
from app.models.user import User


def bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _unauthorized(message: str):
    abort(401, message=message, headers={"WWW-Authenticate": 'Bearer realm="candlewise"'})


def authenticate_request() -> None:
    """before_request of every API resource blueprint: a live token or 401."""
    if request.method == "OPTIONS":
        return None
    token = bearer()
    if token is None:
        _unauthorized("an API token is required: Authorization: Bearer <token>")
    found = tokens.authenticate(db.session, token)
    if found is None:
        _unauthorized("the API token is unknown, revoked or expired")
    user, row = found
    g.api_user, g.api_token_id = user, row.id
    g.api_scopes = tokens.effective_scopes(user, row)
    return None


def current_api_user() -> User:
    return g.api_user


def require(scope: str):
    """View decorator: the request's token must hold ``scope`` (and the user's role must allow it)."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if scope not in g.get("api_scopes", frozenset()):
                abort(403, message=f"this token lacks the {scope!r} scope (or the user's role no longer allows it)")
            return view(*args, **kwargs)

        wrapper._api_scope = scope
        return wrapper

    return decorate


def rate_key() -> str:
    """Flask-Limiter key: one bucket per presented token (its hash), else per client address."""
    token = bearer()
    if token:
        return "api-token:" + tokens.digest(token)[:32]
    return "api-ip:" + (request.remote_addr or "unknown")


def _rate_limit() -> str:
    return current_app.config["CW_SETTINGS"].api_rate_limit


def resource_blueprint(name: str, import_name: str, url_prefix: str, description: str) -> Blueprint:
    """A flask-smorest blueprint whose every request is rate-limited per token, then authenticated.

    Done once when the module is imported (a blueprint cannot change after its first registration,
    and the tests register the same blueprints on many servers). Flask-Limiter's check runs first,
    so refused requests count too; the CSRF form token does not apply (no cookie is read here).
    """
    bp = Blueprint(name, import_name, url_prefix=url_prefix, description=description)
    bp.before_request(authenticate_request)
    limiter.limit(_rate_limit, key_func=rate_key)(bp)
    csrf.exempt(bp)
    # Blueprint handlers come before the server's (e.g. the login page's RateLimitExceeded handler).
    bp.register_error_handler(HTTPException, to_problem)
    bp.register_error_handler(RateLimitExceeded, to_problem)
    return bp
