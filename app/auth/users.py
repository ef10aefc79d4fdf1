"""User management as plain functions: create, authenticate, list, change."""
from __future__ import annotations

import re
from dataclasses import dataclass

from app.auth.passwords import burn_a_hash, password_problem
from app.auth.sessions import revoke_all_sessions
from app.extensions import db
from app.models.user import ROLES, User, utcnow

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")


class UserError(ValueError):
    """Bad input for a user operation; the message is safe to show."""


def normalize_email(email: str) -> str:
    if not isinstance(email, str):
        raise UserError(f"e-mail must be text, got {type(email).__name__}")
    email = email.strip().lower()
    if not EMAIL_RE.match(email):
        raise UserError(f"{email!r} is not a valid e-mail address")
    return email


def create_user(email: str, password: str, role: str = "trader", active: bool = True) -> User:
    email = normalize_email(email)
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    check_password(password, email)
    if db.session.scalar(db.select(User).filter_by(email=email)) is not None:
        raise UserError(f"a user with e-mail {email} already exists")
    user = User(email=email, role=role, active=active)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def check_password(password, email: str | None = None) -> None:
    """The password policy (app.auth.passwords) as a UserError; used wherever a password is set."""
    problem = password_problem(password, email=email)
    if problem:
        raise UserError(problem)


def change_password(user_id: int, new_password: str) -> User:
    """Set a new password (policy checked) and end every session of the user."""
    user = db.session.get(User, user_id)
    if user is None:
        raise UserError(f"no user with id {user_id}")
    check_password(new_password, user.email)
    user.set_password(new_password)
    revoke_all_sessions(user.id)
    db.session.commit()
    return user


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    error: str | None


def authenticate(email: str, password: str) -> LoginResult:
    """Check credentials. One generic message for unknown e-mail and wrong password."""
    bad = LoginResult(None, "Wrong e-mail or password.")
    if not isinstance(password, str) or not password:
        return bad
    try:
        user = db.session.scalar(db.select(User).filter_by(email=normalize_email(email)))
    except UserError:
        user = None
    if user is None:
        burn_a_hash(password)  # the same scrypt work as a wrong password: no timing difference
        return bad
    if not user.check_password(password):
        return bad
    if not user.active:
        return LoginResult(None, "This account is deactivated. Ask an administrator.")
    user.last_login_at = utcnow()
    db.session.commit()
    return LoginResult(user, None)


def list_users() -> list[User]:
    return list(db.session.scalars(db.select(User).order_by(User.id)))


def _other_user(user_id: int, acting: User | None, action: str) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise UserError(f"no user with id {user_id}")
    if acting is not None and user.id == acting.id:
        raise UserError(f"you cannot {action} your own account")
    return user


def deactivate_user(user_id: int, acting: User | None) -> tuple[User, bool]:
    """Deactivate (idempotent) and end every session; returns (user, changed). An admin cannot lock themselves out."""
    user = _other_user(user_id, acting, "deactivate")
    changed = bool(user.active)
    user.active = False
    revoke_all_sessions(user.id)
    db.session.commit()
    return user, changed


def activate_user(user_id: int, acting: User | None) -> tuple[User, bool]:
    """Activate (idempotent); returns (user, changed)."""
    user = _other_user(user_id, acting, "activate")
    changed = not user.active
    user.active = True
    db.session.commit()
    return user, changed


def set_role(user_id: int, role: str, acting: User | None) -> User:
    """Change a user's role and end every session, so the new role applies from the next sign-in."""
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    user = _other_user(user_id, acting, "change the role of")
    if user.role != role:
        user.role = role
        revoke_all_sessions(user.id)
    db.session.commit()
    return user
