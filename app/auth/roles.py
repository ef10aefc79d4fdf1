"""Server-side role checks for callbacks and routes."""
from __future__ import annotations

from flask import abort
from flask_login import current_user


def current_is_admin() -> bool:
    return bool(current_user.is_authenticated and getattr(current_user, "is_admin", False))


def require_admin() -> None:
    """Abort with 403 unless the session's user is an active admin (used in every admin callback)."""
    if not current_user.is_authenticated:
        abort(401)
    if not current_is_admin():
        abort(403)
