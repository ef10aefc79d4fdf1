"""A signed-in user chooses their own password: the current one checked, the new one held to the one
policy (:func:`app.auth.passwords.password_problem`), the one-time flag cleared, an audit row written
and every other session of theirs ended, all in one transaction.

Bad input raises :class:`PasswordChangeError` naming the form field and changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update

from app.audit.log import Actor, record
from app.auth.passwords import MAX_LENGTH, password_problem
from app.auth.sessions import token_digest
from app.models.session import UserSession
from app.models.user import User, utcnow



class PasswordChangeError(ValueError):
    """Bad input for a password change; ``field`` is the form field it is about."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class PasswordChange:
    sessions_ended: int
    was_one_time: bool


def _text(value, field: str, label: str) -> str:
    if not isinstance(value, str) or not value:
        raise PasswordChangeError(field, f"{label}: enter it")
    if len(value) > MAX_LENGTH:
        raise PasswordChangeError(field, f"{label}: at most {MAX_LENGTH} characters")
    return value


def change_own_password(session, user: User, current, new, confirm, *, keep_session: str | None,
                        ip: str | None = None) -> PasswordChange:
    """Set ``user``'s password to ``new`` (the caller commits). ``keep_session`` is the token of the session
    the change was made from: it stays signed in; every other session of the user ends."""
    current = _text(current, "current_password", "Current password")
    new = _text(new, "new_password", "New password")
    confirm = _text(confirm, "confirm_password", "Repeat the new password")
    if not user.check_password(current):
        raise PasswordChangeError("current_password", "Current password: that is not your current password")
    if new != confirm:
        raise PasswordChangeError("confirm_password", "Repeat the new password: the two new passwords differ")
    if new == current:
        raise PasswordChangeError("new_password", "New password: choose one different from the current password")
    problem = password_problem(new, email=user.email)
    if problem:
        raise PasswordChangeError("new_password", f"New password: {problem}")
    now = utcnow()
    was_one_time = bool(user.must_change_password)
    user.set_password(new)
    user.must_change_password = False
    user.password_changed_at = now
    others = update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    if keep_session:
        others = others.where(UserSession.id != token_digest(keep_session))
    ended = session.execute(others.values(revoked_at=now)).rowcount
    record(session, "user.password_change", Actor.of(user, ip), target=user.email,
           after={"sessions_ended": ended, "was_one_time": was_one_time}, now=now)
    session.flush()
    return PasswordChange(ended, was_one_time)
