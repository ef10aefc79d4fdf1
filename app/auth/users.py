"""User management as plain functions: create, authenticate, search, change, delete.

Every change an admin (or the CLI) makes is recorded in the audit log in the same transaction;
the last active admin can never be deactivated, demoted or deleted."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import delete, func, or_, select

from app.audit.log import Actor, record
from app.auth.passwords import burn_a_hash, generate_password, password_problem
from app.auth.sessions import forget_cached_sessions, revoke_all_sessions
from app.extensions import db
from app.models.alert import AlertAttempt, AlertDelivery, AlertEvent, AlertRule, NotificationSettings
from app.models.backtest import Backtest, BacktestTrade
from app.models.portfolio import PaperFill, PaperOrder, PaperStrategy, PortfolioTransaction
from app.models.session import UserSession
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


def create_user(email: str, password: str, role: str = "trader", active: bool = True, *,
                acting: User | None = None, ip: str | None = None, audit: bool = False,
                one_time: bool = False) -> User:
    """Create a user (policy-checked password). ``audit`` records who created them (the Admin page, the CLI);
    ``one_time``: someone else chose the password, so the user must choose their own at first sign-in."""
    email = normalize_email(email)
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    check_password(password, email)
    if db.session.scalar(db.select(User).filter_by(email=email)) is not None:
        raise UserError(f"a user with e-mail {email} already exists")
    user = User(email=email, role=role, active=active, must_change_password=bool(one_time))
    user.set_password(password)
    db.session.add(user)
    if audit:
        db.session.flush()
        record(db.session, "user.create", Actor.of(acting, ip), target=user.email,
               after={"id": user.id, "role": role, "active": active, "one_time": bool(one_time)})
    db.session.commit()
    return user


def check_password(password, email: str | None = None) -> None:
    """The password policy (app.auth.passwords) as a UserError; used wherever a password is set."""
    problem = password_problem(password, email=email)
    if problem:
        raise UserError(problem)


def change_password(user_id: int, new_password: str, *, acting: User | None = None, ip: str | None = None,
                    one_time: bool = False) -> User:
    """Set a new password (policy checked) and end every session of the user. ``one_time``: an admin's
    generated password, so the user must choose their own at the next sign-in (``app.auth.forced``)."""
    user = db.session.get(User, user_id)
    if user is None:
        raise UserError(f"no user with id {user_id}")
    check_password(new_password, user.email)
    user.set_password(new_password)
    user.must_change_password = bool(one_time)
    ended = revoke_all_sessions(user.id)
    record(db.session, "user.password_reset", Actor.of(acting, ip), target=user.email,
           after={"sessions_ended": ended, "one_time": bool(one_time)})
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


@dataclass(frozen=True)
class UserRow:
    """A user as the Admin page lists them: the row and their latest request in any session."""

    user: User
    last_activity_at: datetime | None


def search_users(text: str | None = None, role: str | None = None, limit: int = 500) -> list[UserRow]:
    """Users whose e-mail contains ``text`` (and of ``role``), with their last activity; one query."""
    if text is not None and (not isinstance(text, str) or len(text) > 254):
        raise UserError("search must be text of at most 254 characters")
    if role is not None and role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    last_seen = (select(UserSession.user_id, func.max(UserSession.last_seen_at).label("seen"))
                 .group_by(UserSession.user_id).subquery())
    q = select(User, last_seen.c.seen).outerjoin(last_seen, last_seen.c.user_id == User.id)
    if text and text.strip():
        q = q.where(User.email.ilike(f"%{text.strip().lower()}%"))
    if role is not None:
        q = q.where(User.role == role)
    rows = db.session.execute(q.order_by(User.id).limit(limit)).all()
    # SQLite hands the aggregate back without the column type (naive UTC); give it its zone again
    return [UserRow(u, None if seen is None else seen if seen.tzinfo else seen.replace(tzinfo=timezone.utc))
            for u, seen in rows]


def _other_user(user_id: int, acting: User | None, action: str) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise UserError(f"no user with id {user_id}")
    if acting is not None and user.id == acting.id:
        raise UserError(f"you cannot {action} your own account")
    return user


def _keep_an_admin(user_id: int, action: str) -> None:
    """Refuse to deactivate, demote or delete the last active admin (whoever asks, the CLI included)."""
    user = db.session.get(User, user_id)
    if user is None or not (user.is_admin and user.active):
        return
    others = db.session.scalar(select(func.count()).select_from(User).where(
        User.role == "admin", User.active.is_(True), User.id != user.id))
    if not others:
        raise UserError(f"{user.email} is the last active admin and cannot be {action}; "
                        "make another user an admin first")


def deactivate_user(user_id: int, acting: User | None, *, ip: str | None = None) -> tuple[User, bool]:
    """Deactivate (idempotent) and end every session; returns (user, changed). An admin cannot lock themselves out."""
    _keep_an_admin(user_id, "deactivated")
    user = _other_user(user_id, acting, "deactivate")
    changed = bool(user.active)
    user.active = False
    ended = revoke_all_sessions(user.id)
    if changed:
        record(db.session, "user.deactivate", Actor.of(acting, ip), target=user.email,
               before={"active": True}, after={"active": False, "sessions_ended": ended})
    db.session.commit()
    return user, changed


def activate_user(user_id: int, acting: User | None, *, ip: str | None = None) -> tuple[User, bool]:
    """Activate (idempotent); returns (user, changed)."""
    user = _other_user(user_id, acting, "activate")
    changed = not user.active
    user.active = True
    if changed:
        record(db.session, "user.activate", Actor.of(acting, ip), target=user.email,
               before={"active": False}, after={"active": True})
    db.session.commit()
    return user, changed


def set_role(user_id: int, role: str, acting: User | None, *, ip: str | None = None) -> User:
    """Change a user's role and end every session, so the new role applies from the next sign-in."""
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if role != "admin":
        _keep_an_admin(user_id, "demoted")
    user = _other_user(user_id, acting, "change the role of")
    if user.role != role:
        before = user.role
        user.role = role
        ended = revoke_all_sessions(user.id)
        record(db.session, "user.role", Actor.of(acting, ip), target=user.email,
               before={"role": before}, after={"role": role, "sessions_ended": ended})
    db.session.commit()
    return user


def create_with_password(email: str, role: str, acting: User | None, *, ip: str | None = None) -> tuple[User, str]:
    """Create an active user with a generated password, returned once for the admin to hand over; the user
    must choose their own at first sign-in."""
    password = generate_password()
    return create_user(email, password, role=role, acting=acting, ip=ip, audit=True, one_time=True), password


def reset_password(user_id: int, acting: User | None, *, ip: str | None = None) -> tuple[User, str]:
    """Give a user a new generated password (returned once, to be changed at their next sign-in) and end
    every session they have."""
    password = generate_password()
    return change_password(user_id, password, acting=acting, ip=ip, one_time=True), password


def _owned(user_id: int) -> dict:
    """Each kind of row a user owns, as ``{kind: (model, where clause)}``, children before their parents.

    Every one of these tables has a foreign key to ``users`` (directly or through its parent) with
    ON DELETE CASCADE, which SQLite enforces only with foreign keys switched on: deletion removes
    them explicitly, in this order, on either database.
    """
    rules = select(AlertRule.id).where(AlertRule.user_id == user_id)
    events = select(AlertEvent.id).where(or_(AlertEvent.user_id == user_id, AlertEvent.rule_id.in_(rules)))
    deliveries = select(AlertDelivery.id).where(AlertDelivery.event_id.in_(events))
    strategies = select(PaperStrategy.id).where(PaperStrategy.user_id == user_id)
    runs = select(Backtest.id).where(Backtest.user_id == user_id)
    return {
        "alert_attempts": (AlertAttempt, AlertAttempt.delivery_id.in_(deliveries)),
        "alert_deliveries": (AlertDelivery, AlertDelivery.event_id.in_(events)),
        "alert_events": (AlertEvent, AlertEvent.id.in_(events)),
        "alert_rules": (AlertRule, AlertRule.user_id == user_id),
        "notification_settings": (NotificationSettings, NotificationSettings.user_id == user_id),
        "paper_fills": (PaperFill, PaperFill.strategy_id.in_(strategies)),
        "paper_strategies": (PaperStrategy, PaperStrategy.user_id == user_id),
        "paper_orders": (PaperOrder, PaperOrder.user_id == user_id),
        "portfolio_transactions": (PortfolioTransaction, PortfolioTransaction.user_id == user_id),
        "backtest_trades": (BacktestTrade, BacktestTrade.backtest_id.in_(runs)),
        "backtests": (Backtest, Backtest.user_id == user_id),
        "sessions": (UserSession, UserSession.user_id == user_id),
    }


def owned_counts(user_id: int) -> dict[str, int]:
    """What deleting the user also deletes, by kind (shown in the confirmation and recorded in the audit); one query."""
    owned = _owned(user_id)
    counts = db.session.execute(select(*(
        select(func.count()).select_from(model).where(where).scalar_subquery().label(kind)
        for kind, (model, where) in owned.items()))).one()
    return {kind: counts._mapping[kind] or 0 for kind in owned}


def delete_user(user_id: int, acting: User | None, *, ip: str | None = None) -> dict[str, int]:
    """Delete a user and everything they own (see :func:`_owned`): alert rules with their events,
    deliveries and attempts, notification settings, portfolio transactions, paper strategies with
    their fills, paper orders, backtests with their trades, and sessions.

    Audit rows about them stay (they name the e-mail, not a foreign key). Returns what was deleted.
    """
    _keep_an_admin(user_id, "deleted")
    user = _other_user(user_id, acting, "delete")
    counts = owned_counts(user.id)
    forget_cached_sessions(user.id)  # the session rows go below: their hot copies stop counting now
    for model, where in _owned(user.id).values():  # children first: no row is left pointing at a deleted one
        db.session.execute(delete(model).where(where))
    record(db.session, "user.delete", Actor.of(acting, ip), target=user.email,
           before={"id": user.id, "role": user.role, "active": user.active}, after={"deleted": counts})
    db.session.delete(user)
    db.session.commit()
    return counts
