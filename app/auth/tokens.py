"""Personal API tokens: create (the plain token is returned once), authenticate, list, revoke.

A token is ``cw_`` + 43 URL-safe characters (256 random bits); the ``api_tokens`` row keeps its
SHA-256, a short prefix for the list, a name, scopes, an expiry and the last use. The scopes a
token may hold follow its user's role, the same roles as the UI: ``read`` for everyone, ``trade``
for traders and admins, ``admin`` for admins. At each request the role is checked again
(:func:`allowed_scopes`), so a trader demoted to viewer keeps no write access through an old token.

Functions take the SQLAlchemy session; :func:`create_token` and :func:`revoke_token` commit,
:func:`authenticate` commits only when it records a use (at most once per :data:`TOUCH_EVERY`).
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models.api_token import TOKEN_SCOPES, ApiToken
from app.models.user import User, utcnow

TOKEN_PREFIX = "cw_"
MAX_NAME = 64
MAX_DAYS = 366
DEFAULT_DAYS = 90
MAX_TOKENS = 50  # live tokens per user
TOUCH_EVERY = timedelta(minutes=1)
ROLE_SCOPES = {"viewer": ("read",), "trader": ("read", "trade"), "admin": TOKEN_SCOPES}


class TokenError(ValueError):
    """A token request that cannot be honoured; ``errors`` maps each field to its message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def allowed_scopes(role: str) -> tuple[str, ...]:
    return ROLE_SCOPES.get(role, ())


def parse_scopes(raw, role: str) -> tuple[str, ...]:
    """Scopes from a list or a space/comma-separated string, checked against ``role``; raises TokenError."""
    if isinstance(raw, str):
        items = raw.replace(",", " ").split()
    elif isinstance(raw, (list, tuple)) and all(isinstance(x, str) for x in raw):
        items = [x.strip() for x in raw]
    else:
        raise TokenError({"scopes": f"scopes must be a list of {', '.join(TOKEN_SCOPES)}."})
    if not items:
        raise TokenError({"scopes": "choose at least one scope."})
    unknown = [x for x in items if x not in TOKEN_SCOPES]
    if unknown:
        raise TokenError({"scopes": f"unknown scope {unknown[0]!r}; use {', '.join(TOKEN_SCOPES)}."})
    refused = [x for x in items if x not in allowed_scopes(role)]
    if refused:
        raise TokenError({"scopes": f"a {role} cannot hold the {refused[0]!r} scope "
                                    f"(allowed: {', '.join(allowed_scopes(role))})."})
    return tuple(s for s in TOKEN_SCOPES if s in items)


def _name(raw) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise TokenError({"name": "name is required (what the token is for)."})
    name = " ".join(raw.split())
    if len(name) > MAX_NAME:
        raise TokenError({"name": f"name must be at most {MAX_NAME} characters."})
    return name


def _days(raw) -> int:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return DEFAULT_DAYS
    if isinstance(raw, bool):
        raise TokenError({"expires_days": "expires_days must be a whole number of days."})
    try:
        days = int(raw) if not isinstance(raw, float) or raw.is_integer() else None
    except (TypeError, ValueError):
        days = None
    if days is None:
        raise TokenError({"expires_days": "expires_days must be a whole number of days."})
    if not 1 <= days <= MAX_DAYS:
        raise TokenError({"expires_days": f"expires_days must be between 1 and {MAX_DAYS}, got {days}."})
    return days


def create_token(session: Session, user: User, name, scopes, expires_days=None, now: datetime | None = None
                 ) -> tuple[ApiToken, str]:
    """Validate, store the hash and return ``(row, plain token)``; nothing is written on bad input."""
    if not user.active:
        raise TokenError({"user": "an inactive user cannot create tokens."})
    clean_name, clean_scopes, days = _name(name), parse_scopes(scopes, user.role), _days(expires_days)
    live = len(list_tokens(session, user.id, now=now))
    if live >= MAX_TOKENS:
        raise TokenError({"name": f"at most {MAX_TOKENS} live tokens per user; revoke one first."})
    now = now or utcnow()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=clean_name, token_hash=digest(token), prefix=token[:10],
                   scopes=" ".join(clean_scopes), created_at=now, expires_at=now + timedelta(days=days))
    session.add(row)
    session.commit()
    return row, token


def authenticate(session: Session, token: str, now: datetime | None = None) -> tuple[User, ApiToken] | None:
    """The active user and live token row for a presented token, or None (unknown, revoked, expired)."""
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or len(token) > 128:
        return None
    now = now or utcnow()
    row = session.execute(select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                          .where(ApiToken.token_hash == digest(token))).first()
    if row is None:
        return None
    tok, user = row
    if tok.revoked_at is not None or tok.expires_at <= now or not user.active:
        return None
    if user.must_change_password:  # an admin reset the password: nothing works until the user picks one
        return None
    if tok.last_used_at is None or now - tok.last_used_at >= TOUCH_EVERY:
        session.execute(update(ApiToken).where(ApiToken.id == tok.id).values(last_used_at=now))
        session.commit()
        tok.last_used_at = now
    return user, tok


def effective_scopes(user: User, tok: ApiToken) -> frozenset[str]:
    """What the token may do now: its scopes, limited by the user's current role."""
    return tok.scope_set & frozenset(allowed_scopes(user.role))


def list_tokens(session: Session, user_id: int, now: datetime | None = None, *, include_dead: bool = False
                ) -> list[ApiToken]:
    """The user's tokens, newest first: live ones only unless ``include_dead``."""
    stmt = select(ApiToken).where(ApiToken.user_id == user_id)
    if not include_dead:
        stmt = stmt.where(ApiToken.revoked_at.is_(None), ApiToken.expires_at > (now or utcnow()))
    return list(session.scalars(stmt.order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke_token(session: Session, user_id: int, token_id, now: datetime | None = None) -> bool:
    """Revoke one of the user's own tokens; False when it is not theirs, unknown or already revoked."""
    try:
        tid = int(token_id)
    except (TypeError, ValueError):
        return False
    result = session.execute(update(ApiToken).where(ApiToken.id == tid, ApiToken.user_id == user_id,
                                                    ApiToken.revoked_at.is_(None))
                             .values(revoked_at=now or utcnow()))
    session.commit()
    return result.rowcount > 0


def revoke_all_tokens(session: Session, user_id: int, now: datetime | None = None) -> int:
    """Revoke every live token of a user (deactivation). Does not commit."""
    result = session.execute(update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
                             .values(revoked_at=now or utcnow()))
    return result.rowcount
