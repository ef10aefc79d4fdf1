"""Personal API tokens: a user's named bearer credentials for ``/api/v1``.

Only the SHA-256 of a token is stored (the token is 256 random bits, so a fast hash is enough and a
copy of the table cannot be replayed); the plain token is shown once, when it is created.
``scopes`` is a space-separated subset of ``read trade admin``.
"""
from __future__ import annotations

from app.extensions import db
from app.models.types import UTCDateTime
from app.models.user import utcnow

TOKEN_SCOPES = ("read", "trade", "admin")


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    name = db.Column(db.String(64), nullable=False)
    token_hash = db.Column(db.String(64), nullable=False, unique=True)  # sha256 hex of the token
    prefix = db.Column(db.String(12), nullable=False)  # first characters, to recognise a token in the list
    scopes = db.Column(db.String(32), nullable=False)
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    expires_at = db.Column(UTCDateTime(), nullable=False)
    last_used_at = db.Column(UTCDateTime(), nullable=True)
    revoked_at = db.Column(UTCDateTime(), nullable=True)

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())

    def __repr__(self) -> str:  # never the hash
        return f"<ApiToken {self.id} {self.name!r} user={self.user_id}>"
