"""Server-side sign-in sessions: start at sign-in, check on every request, revoke at sign-out.

The signed Flask cookie holds only a random token (through Flask-Login's ``_user_id``); the
``user_sessions`` row keyed by the token's SHA-256 says who it belongs to and whether it still
counts. A request costs one primary-key lookup (joined with its user); ``last_seen_at`` is
written at most once per :data:`TOUCH_EVERY`.

``revoke_all_sessions`` joins the caller's transaction (it does not commit), so a
deactivation or password change and the end of every session commit together.

With Redis (production) a live session is checked from hot state (:mod:`app.hot.sessions`) on most
requests: the database is asked at most once per ``TOUCH_EVERY`` per session, when the cached entry
expires. Every revocation bumps the user's session version there (once at once, once after its commit),
so a deactivated or demoted user's next request goes to the database and is refused.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import logging

from sqlalchemy import delete, event, or_, select, update

from app.extensions import db
from app.models.session import UserSession
from app.models.user import User, utcnow

TOUCH_EVERY = timedelta(minutes=1)
log = logging.getLogger(__name__)


def _cache():
    """The hot copy of session checks, or None (embedded mode, or no app context)."""
    from flask import has_app_context

    if not has_app_context():
        return None
    import app.hot as hot

    return hot.session_cache()


def _bump(user_ids) -> None:
    """Invalidate the cached checks of these users' sessions; a Redis failure is logged, never raised
    (the entries then expire within ``TOUCH_EVERY``)."""
    cache = _cache()
    if cache is None:
        return
    for uid in set(user_ids):
        try:
            cache.revoke_user(int(uid))
        except Exception as exc:  # noqa: BLE001 - the revocation itself is in the database
            log.warning("could not invalidate the cached sessions of user %s: %s", uid, type(exc).__name__)


def _bump_now_and_after_commit(user_ids) -> None:
    """Bump at once (nothing cached before is served while the transaction runs) and again after it
    commits (an entry cached from a read that raced with it carries the version in between)."""
    ids = [int(u) for u in user_ids]
    _bump(ids)
    event.listen(db.session(), "after_commit", lambda _session: _bump(ids), once=True)


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


def _cached_user(cache, digest: str, token: str, idle_timeout: timedelta, now: datetime) -> User | None:
    try:
        doc = cache.read(digest)
    except Exception as exc:  # noqa: BLE001 - Redis away: the database answers
        log.warning("session cache unavailable: %s", type(exc).__name__)
        return None
    if doc is None or not doc["active"] or now - doc["seen"] > idle_timeout or now - doc["seen"] >= TOUCH_EVERY:
        return None
    # A detached user built from the cached check: id, e-mail, role and active are all a request reads.
    user = User(id=doc["uid"], email=doc["email"], role=doc["role"], active=True)
    user.session_token = token
    return user


def load_session_user(token: str, *, idle_timeout: timedelta, now: datetime | None = None,
                      cache=None) -> User | None:
    """The active user of a live session, or None (unknown, revoked, idle too long, user deactivated).

    ``cache`` (a :class:`app.hot.sessions.SessionCache`) answers a session checked within ``TOUCH_EVERY``
    without a query; otherwise the database decides and the answer is cached."""
    if not isinstance(token, str) or not token or len(token) > 128:
        return None
    digest = token_digest(token)
    now = now or utcnow()
    version = None
    if cache is not None:
        hit = _cached_user(cache, digest, token, idle_timeout, now)
        if hit is not None:
            return hit
    row = db.session.execute(
        select(UserSession.revoked_at, UserSession.last_seen_at, User).join(User, User.id == UserSession.user_id)
        .where(UserSession.id == digest)
    ).first()
    if row is None:
        return None
    revoked_at, last_seen_at, user = row
    if revoked_at is not None or not user.active:
        return None
    if cache is not None:
        try:
            version = cache.version(user.id)  # read before trusting the row below (see app.hot.sessions)
        except Exception:  # noqa: BLE001
            version = None
    if now - last_seen_at > idle_timeout:
        db.session.execute(update(UserSession).where(UserSession.id == digest).values(revoked_at=now))
        db.session.commit()
        return None
    if now - last_seen_at >= TOUCH_EVERY:
        db.session.execute(update(UserSession).where(UserSession.id == digest).values(last_seen_at=now))
        db.session.commit()
        last_seen_at = now
    if version is not None and not user.must_change_password:  # a forced change is always read from the row
        try:
            cache.write(digest, user_id=user.id, email=user.email, role=user.role, active=bool(user.active),
                        seen=last_seen_at, version=version)
        except Exception as exc:  # noqa: BLE001
            log.warning("session cache unavailable: %s", type(exc).__name__)
    user.session_token = token
    return user


def revoke_session(token: str | None, *, now: datetime | None = None) -> bool:
    """End one session (sign-out); True when a live session was ended. Commits."""
    if not isinstance(token, str) or not token:
        return False
    digest = token_digest(token)
    owner = db.session.scalar(select(UserSession.user_id).where(UserSession.id == digest))
    if owner is not None:
        _bump_now_and_after_commit([owner])
    result = db.session.execute(
        update(UserSession).where(UserSession.id == digest, UserSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow()))
    db.session.commit()
    return result.rowcount > 0


def forget_cached_sessions(user_id: int) -> None:
    """The hot copies of a user's session checks stop counting, now and after the caller's commit (a
    user's deletion removes the rows themselves)."""
    _bump_now_and_after_commit([user_id])


def revoke_all_sessions(user_id: int, *, now: datetime | None = None) -> int:
    """End every live session of a user (deactivation, role change, password reset). Does not commit;
    the hot copies of the user's session checks stop counting at once and again after the commit."""
    _bump_now_and_after_commit([user_id])
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
