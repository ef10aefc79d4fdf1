"""The audit log: one row per admin action or security event, append-only from the application.

The ORM refuses to update or delete a row (``AuditWriteError``); nothing in the application
offers such a path. ``actor_email`` is kept as text, so a row still says who acted after that
user is deleted (``actor_id`` is a plain number, not a foreign key, for the same reason).
"""
from __future__ import annotations

from sqlalchemy import event

from app.extensions import db
from app.models.types import UTCDateTime
from app.models.user import utcnow


class AuditWriteError(RuntimeError):
    """Raised when code tries to change or remove an audit row."""


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (db.Index("ix_audit_events_action_at", "action", "at"),)

    id = db.Column(db.Integer, primary_key=True)
    at = db.Column(UTCDateTime(), nullable=False, default=utcnow, index=True)
    actor_id = db.Column(db.Integer, nullable=True)
    actor_email = db.Column(db.String(254), nullable=False)  # who acted ("cli" for the command line)
    action = db.Column(db.String(64), nullable=False)
    target = db.Column(db.String(254), nullable=True)
    ip = db.Column(db.String(64), nullable=True)
    before = db.Column(db.JSON, nullable=True)
    after = db.Column(db.JSON, nullable=True)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.action} by {self.actor_email}>"


@event.listens_for(AuditEvent, "before_update")
def _no_update(_mapper, _conn, target):
    raise AuditWriteError(f"audit rows are append-only (tried to update row {target.id})")


@event.listens_for(AuditEvent, "before_delete")
def _no_delete(_mapper, _conn, target):
    raise AuditWriteError(f"audit rows are append-only (tried to delete row {target.id})")
