"""Who is connecting: the bearer token of the WebSocket handshake, looked up like the REST API's.

The token comes only from the ``Authorization: Bearer`` header (never from the URL, which proxies log).
The lookup is :func:`app.auth.tokens.authenticate` on a plain SQLAlchemy session, run in a worker thread
so the event loop never blocks on the database; the scopes are the token's as limited by the user's
current role (:func:`app.auth.tokens.effective_scopes`).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from app.auth.tokens import authenticate, effective_scopes


@dataclass(frozen=True)
class Identity:
    user_id: int
    token_id: int
    scopes: frozenset[str]


def bearer(headers) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    value = headers.get("authorization")
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


class TokenLookup:
    """Token -> Identity through the database (blocking: call it from a thread)."""

    def __init__(self, database_url: str):
        self.engine = create_engine(database_url, pool_size=4, max_overflow=4, pool_pre_ping=True)

    def __call__(self, token: str | None) -> Identity | None:
        if not token:
            return None
        with Session(self.engine) as session:
            found = authenticate(session, token)
            if found is None:
                return None
            user, tok = found
            return Identity(user.id, tok.id, frozenset(effective_scopes(user, tok)))

    def dispose(self) -> None:
        self.engine.dispose()
