"""Record admin actions and security events in the caller's transaction.

An event says who (:class:`Actor`: user id, e-mail, source IP), what (one of :data:`ACTIONS`),
on what (``target``) and the values before and after. Values pass through :func:`scrub` first,
so a password, token or secret never reaches the table, whatever a caller hands in.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from app.models.audit import AuditEvent
from app.models.user import utcnow

ACTIONS = (
    "sign_in.success", "sign_in.failure",
    "user.create", "user.role", "user.activate", "user.deactivate", "user.password_reset", "user.delete",
    "user.password_change",
    "system.stop", "system.resume",
    "model.promote", "model.rollback",
    "watchlist.change", "cache.clear",
    "job.requeue", "job.delete",
)
SECRET_KEY_RE = re.compile(r"password|passwd|secret|token|hash|otp|credential|(^|_)(api_?)?key$", re.IGNORECASE)
REDACTED = "[redacted]"


@dataclass(frozen=True)
class Actor:
    """Who acted: a signed-in user (id and e-mail), the command line, or an anonymous client."""

    email: str
    user_id: int | None = None
    ip: str | None = None

    @classmethod
    def of(cls, user, ip: str | None = None) -> "Actor":
        """The actor for a ``User`` (or ``None``: the command line)."""
        if user is None:
            return cls("cli", None, ip)
        return cls(user.email, user.id, ip)


def scrub(values):
    """A copy of ``values`` with every secret-looking key's value replaced by ``[redacted]``."""
    if isinstance(values, dict):
        return {str(k): (REDACTED if SECRET_KEY_RE.search(str(k)) else scrub(v))
                for k, v in values.items()}
    if isinstance(values, (list, tuple)):
        return [scrub(v) for v in values]
    if values is None or isinstance(values, (str, int, float, bool)):
        return values
    return str(values)


def record(session, action: str, actor: Actor, *, target: str | None = None, before: dict | None = None,
           after: dict | None = None, now: datetime | None = None) -> AuditEvent:
    """Add one audit row to ``session`` (the caller commits it with the action it describes)."""
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ACTIONS)}, got {action!r}")
    if not isinstance(actor, Actor) or not actor.email:
        raise ValueError("actor must be an Actor naming who acted")
    row = AuditEvent(at=now or utcnow(), actor_id=actor.user_id, actor_email=actor.email[:254], action=action,
                     target=None if target is None else str(target)[:254],
                     ip=None if actor.ip is None else str(actor.ip)[:64],
                     before=scrub(before), after=scrub(after))
    session.add(row)
    return row
