"""User management as plain functions: create, authenticate, list, change."""
from __future__ import annotations

import re
from dataclasses import dataclass

from app.extensions import db
from app.models.user import ROLES, User, utcnow

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")
MIN_PASSWORD = 10


class UserError(ValueError):
    """Bad input for a user operation; the message is safe to show."""


def normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not EMAIL_RE.match(email):
        raise UserError(f"{email!r} is not a valid e-mail address")
    return email


def create_user(email: str, password: str, role: str = "trader", active: bool = True) -> User:
    email = normalize_email(email)
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if not password or len(password) < MIN_PASSWORD:
        raise UserError(f"password must be at least {MIN_PASSWORD} characters")
    if db.session.scalar(db.select(User).filter_by(email=email)) is not None:
        raise UserError(f"a user with e-mail {email} already exists")
    user = User(email=email, role=role, active=active)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    error: str | None


def authenticate(email: str, password: str) -> LoginResult:
    """Check credentials. One generic message for unknown e-mail and wrong password."""
    bad = LoginResult(None, "Wrong e-mail or password.")
    try:
        email = normalize_email(email)
    except UserError:
        return bad
    user = db.session.scalar(db.select(User).filter_by(email=email))
    if user is None or not password or not user.check_password(password):
        return bad
    if not user.active:
        return LoginResult(None, "This account is deactivated. Ask an administrator.")
    user.last_login_at = utcnow()
    db.session.commit()
    return LoginResult(user, None)


def list_users() -> list[User]:
    return list(db.session.scalars(db.select(User).order_by(User.id)))


def toggle_active(user_id: int, acting: User) -> User:
    """Flip a user's active flag; an admin cannot lock themselves out."""
    user = db.session.get(User, user_id)
    if user is None:
        raise UserError(f"no user with id {user_id}")
    if user.id == acting.id:
        raise UserError("you cannot deactivate your own account")
    user.active = not user.active
    db.session.commit()
    return user
