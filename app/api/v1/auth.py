"""Bearer-token authentication and scope checks for ``/api/v1`` (never the session cookie).

Every resource blueprint calls :func:`install` so its ``before_request`` authenticates the token
before any view runs: no token, an unknown, revoked or expired one is a 401 with
``WWW-Authenticate: Bearer``. Views declare what they need with :func:`require` (``read``,
``trade``, ``admin``): the token's scopes *and* the user's current role must allow it (403).
Tokens are never logged: only the row id and the user id are put on ``g``.

A token checked a moment ago is answered from this process's memo (:mod:`app.api.v1.memo`) while the
``api_tokens`` and ``users`` change counters are unchanged, so a revocation, a role change or a
deactivation committed anywhere takes effect on the next request; the ORM user is loaded only by a
view that asks for it (:func:`current_api_user`).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from flask import g, request
from flask_smorest import Blueprint, abort

from werkzeug.exceptions import HTTPException

from app.api.v1 import memo, rate_limit
from app.api.v1.problems import to_problem
from app.auth import tokens
from app.extensions import csrf, db
from app.models.user import User, utcnow


def bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _unauthorized(message: str):
    abort(401, message=message, headers={"WWW-Authenticate": 'Bearer realm="candlewise"'})


@dataclass(frozen=True)
class Grant:
    """What a live token allows, as the database said when it was last read (no secret, no ORM object)."""

    user_id: int
    token_id: int
    scopes: frozenset[str]
    expires_at: datetime
    last_used_at: datetime | None


def _grant(token: str) -> Grant | None:
    """The token's grant: from the memo while nothing it depends on changed, else from the database."""
    digest = tokens.digest(token)
    seen = memo.seen("api_tokens", "users")  # read before the database, see app.api.v1.memo
    grants = memo.memo("tokens")
    now = utcnow()
    grant = grants.get(digest, seen)
    if grant is not None and grant.expires_at > now and grant.last_used_at is not None \
            and now - grant.last_used_at < tokens.TOUCH_EVERY:
        return grant
    found = tokens.authenticate(db.session, token, now=now)  # records the use when one is due
    if found is None:
        grants.forget(digest)
        return None
    user, row = found
    grant = Grant(int(user.id), int(row.id), tokens.effective_scopes(user, row), row.expires_at, row.last_used_at)
    grants.put(digest, seen, grant)
    g.api_user = user
    return grant


def authenticate_request() -> None:
    """before_request of every API resource blueprint: a live token or 401."""
    if request.method == "OPTIONS":
        return None
    token = bearer()
    if token is None:
        _unauthorized("an API token is required: Authorization: Bearer <token>")
    if not isinstance(token, str) or not token.startswith(tokens.TOKEN_PREFIX) or len(token) > 128:
        _unauthorized("the API token is unknown, revoked or expired")
    grant = _grant(token)
    if grant is None:
        _unauthorized("the API token is unknown, revoked or expired")
    g.api_user_id, g.api_token_id, g.api_scopes = grant.user_id, grant.token_id, grant.scopes
    return None


def current_api_user() -> User:
    """The token owner's row (loaded on first use in the request; most reads need only ``g.api_user_id``)."""
    user = g.get("api_user")
    if user is None:
        user = db.session.get(User, g.api_user_id)
        if user is None:  # deleted since the grant was read: the token went with it
            _unauthorized("the API token is unknown, revoked or expired")
        g.api_user = user
    return user


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
    """Rate-limit key (:mod:`app.api.v1.rate_limit`): one bucket per presented token (its hash), else per
    client address."""
    token = bearer()
    if token:
        return "api-token:" + tokens.digest(token)[:32]
    return "api-ip:" + (request.remote_addr or "unknown")


def resource_blueprint(name: str, import_name: str, url_prefix: str, description: str) -> Blueprint:
    """A flask-smorest blueprint whose every request is rate-limited per token, then authenticated.

    Done once when the module is imported (a blueprint cannot change after its first registration,
    and the tests register the same blueprints on many servers). The rate-limit check runs first,
    so refused requests count too; the CSRF form token does not apply (no cookie is read here).
    """
    bp = Blueprint(name, import_name, url_prefix=url_prefix, description=description)

    def limit_rate() -> None:
        rate_limit.check(rate_key())

    bp.before_request(limit_rate)
    bp.before_request(authenticate_request)
    bp.after_request(rate_limit.add_headers)
    csrf.exempt(bp)
    # Blueprint handlers come before the server's (e.g. the sign-in pages' RateLimitExceeded handler).
    bp.register_error_handler(HTTPException, to_problem)
    return bp
