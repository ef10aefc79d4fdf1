"""Server-side role checks for callbacks and routes: hiding a button is not security.

Roles: ``viewer`` (every dashboard, read-only), ``trader`` (also creates alerts, backtests, paper
orders and changes their own things), ``admin`` (also runs the system). Every write callback or
route calls :func:`require_writer`; every admin one calls :func:`require_admin`.
"""
from __future__ import annotations

from flask import abort
from flask_login import current_user


def current_is_admin() -> bool:
    return bool(current_user.is_authenticated and getattr(current_user, "is_admin", False))


def current_can_write() -> bool:
    return bool(current_user.is_authenticated and getattr(current_user, "can_write", False))


def require_admin() -> None:
    """Abort with 403 unless the session's user is an active admin (used in every admin callback)."""
    if not current_user.is_authenticated:
        abort(401)
    if not current_is_admin():
        abort(403)


def require_writer() -> None:
    """Abort with 403 unless the session's user may change things (trader or admin, not viewer)."""
    if not current_user.is_authenticated:
        abort(401)
    if not current_can_write():
        abort(403)


def signed_in_user_id() -> int:
    """The signed-in user's id, for callbacks that act on the user's own rows. The request guard refuses an
    anonymous request earlier; this refuses again rather than trust that."""
    if not current_user.is_authenticated:
        raise PermissionError("sign in first")
    return int(current_user.id)
