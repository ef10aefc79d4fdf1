"""Users: who may log in, and with which role."""
from __future__ import annotations

from datetime import datetime, timezone

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, false
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models.types import UTCDateTime

ROLES = ("viewer", "trader", "admin")  # viewer: every dashboard, read-only


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('viewer', 'trader', 'admin')", name="role"),)

    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(254), nullable=False, unique=True, index=True)
    password_hash = db.Column(db.String(256), nullable=False)
    role = db.Column(db.String(16), nullable=False, default="trader")
    active = db.Column(db.Boolean, nullable=False, default=True)
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    last_login_at = db.Column(UTCDateTime(), nullable=True)
    # Set by an admin's one-time password (create, reset): every page and callback sends the user to
    # /account/password until they choose their own (app.auth.forced, app.auth.password_change).
    must_change_password = db.Column(db.Boolean, nullable=False, default=False, server_default=false())
    password_changed_at = db.Column(UTCDateTime(), nullable=True)  # when they last chose one themselves

    # The server-side session this user object was loaded for (app.auth.sessions); not a column.
    session_token = None  # str | None

    def get_id(self) -> str:
        """What Flask-Login keeps in the signed cookie: the session token, never the bare user id."""
        return self.session_token if self.session_token else f"unbound-{self.id}"

    def set_password(self, password: str) -> None:
        # werkzeug's scrypt: a slow, salted, memory-hard hash.
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return bool(self.active)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def can_write(self) -> bool:
        """Traders and admins change things (alerts, backtests, orders); viewers only look."""
        return self.role in ("trader", "admin")

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"
