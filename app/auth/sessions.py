"""Server-side sign-in sessions: start at sign-in, check on every request, revoke at sign-out.

The signed Flask cookie holds only a random token (through Flask-Login's ``_user_id``); the
``user_sessions`` row keyed by the token's SHA-256 says who it belongs to and whether it still
counts. A request costs one primary-key lookup (joined with its user); ``last_seen_at`` is
written at most once per :data:`TOUCH_EVERY`.

``revoke_all_sessions`` joins the caller's transaction (it does not commit), so a
deactivation or password change and the end of every session commit together.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update

from app.extensions import db
from app.models.session import UserSession
from app.models.user import User, utcnow

TOUCH_EVERY = timedelta(minutes=1)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(user: User, *, user_agent: str | None, ip: str | None, now: datetime | None = None) -> str:
    """Create a session row for ``user`` and return the token for the cookie (committed)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(id=token_digest(token), user_id=user.id, created_at=now, last_seen_at=now,
                               user_agent=(user_agent or "")[:256] or None, ip=(ip or "")[:64] or None))
    db.session.commit()
    user.session_token = token
    return token


def load_session_user(token: str, *, idle_timeout: timedelta, now: datetime | None = None) -> User | None:
    """The active user of a live session, or None (unknown, revoked, idle too long, user deactivated)."""
    if not isinstance(token, str) or not token or len(token) > 128:
        return None
    digest = token_digest(token)
    row = db.session.execute(
        select(UserSession.revoked_at, UserSession.last_seen_at, User).join(User, User.id == UserSession.user_id)
        .where(UserSession.id == digest)
    ).first()
    if row is None:
        return None
    revoked_at, last_seen_at, user = row
    now = now or utcnow()
    if revoked_at is not None or not user.active:
        return None
    if now - last_seen_at > idle_timeout:
        db.session.execute(update(UserSession).where(UserSession.id == digest).values(revoked_at=now))
        db.session.commit()
        return None
    if now - last_seen_at >= TOUCH_EVERY:
        db.session.execute(update(UserSession).where(UserSession.id == digest).values(last_seen_at=now))
        db.session.commit()
    user.session_token = token
    return user


def revoke_session(token: str | None, *, now: datetime | None = None) -> bool:
    """End one session (sign-out); True when a live session was ended. Commits."""
    if not isinstance(token, str) or not token:
        return False
    result = db.session.execute(
        update(UserSession).where(UserSession.id == token_digest(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow()))
    db.session.commit()
    return result.rowcount > 0


def revoke_all_sessions(user_id: int, *, now: datetime | None = None) -> int:
    """End every live session of a user (deactivation, role change, password reset). Does not commit."""
    result = db.session.execute(
        update(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow()))
    return result.rowcount


def live_sessions(user_id: int) -> list[UserSession]:
    return list(db.session.scalars(
        select(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .order_by(UserSession.last_seen_at.desc())))


def prune_sessions(older_than: datetime) -> int:
    """Delete rows revoked or last seen before ``older_than`` (they can never count again). Commits."""
    result = db.session.execute(delete(UserSession).where(
        or_(UserSession.revoked_at < older_than, UserSession.last_seen_at < older_than)))
    db.session.commit()
    return result.rowcount
