"""Server-side sign-in sessions: the cookie carries a random token, this table says whether it is still valid.

Only the SHA-256 of the token is stored, so a copy of the table cannot be replayed as cookies.
"""
from __future__ import annotations

from app.extensions import db
from app.models.types import UTCDateTime
from app.models.user import utcnow


class UserSession(db.Model):
    __tablename__ = "user_sessions"

    id = db.Column(db.String(64), primary_key=True)  # sha256 hex of the cookie's token
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    last_seen_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    user_agent = db.Column(db.String(256), nullable=True)
    ip = db.Column(db.String(64), nullable=True)
    revoked_at = db.Column(UTCDateTime(), nullable=True)

    def __repr__(self) -> str:
        state = "revoked" if self.revoked_at else "live"
        return f"<UserSession user={self.user_id} {state}>"
