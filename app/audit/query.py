"""Search the audit log and export it as CSV (one query, newest first)."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from app.audit.log import ACTIONS
from app.models.audit import AuditEvent

MAX_ROWS = 10_000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = ("id", "at", "actor_email", "actor_id", "ip", "action", "target", "before", "after")


@dataclass(frozen=True)
class AuditFilter:
    """Which events to show: an action (or its area, ``user``), a text found in actor or target, a time range."""

    action: str | None = None
    text: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 200

    def __post_init__(self):
        if self.action is not None and self.action not in ACTIONS and self.action not in areas():
            raise ValueError(f"action must be one of {', '.join(ACTIONS)} or an area, got {self.action!r}")
        if self.text is not None and (not isinstance(self.text, str) or len(self.text) > 254):
            raise ValueError("text must be at most 254 characters")
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
                raise ValueError(f"{name} must be a timezone-aware datetime")
        if not isinstance(self.limit, int) or not 1 <= self.limit <= MAX_ROWS:
            raise ValueError(f"limit must be a whole number from 1 to {MAX_ROWS}")


def areas() -> tuple[str, ...]:
    return tuple(dict.fromkeys(a.split(".")[0] for a in ACTIONS))


def search(session, filt: AuditFilter = AuditFilter()) -> list[AuditEvent]:
    q = select(AuditEvent)
    if filt.action in ACTIONS:
        q = q.where(AuditEvent.action == filt.action)
    elif filt.action is not None:
        q = q.where(AuditEvent.action.like(f"{filt.action}.%"))
    if filt.text:
        needle = f"%{filt.text.strip().lower()}%"
        q = q.where(or_(AuditEvent.actor_email.ilike(needle), AuditEvent.target.ilike(needle)))
    if filt.since is not None:
        q = q.where(AuditEvent.at >= filt.since)
    if filt.until is not None:
        q = q.where(AuditEvent.at < filt.until)
    return list(session.scalars(q.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(filt.limit)))


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    text = str(value)
    # a cell a spreadsheet would run as a formula (an e-mail typed at sign-in is client input)
    return "'" + text if text[:1] in FORMULA_START else text


def to_csv(events: list[AuditEvent]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for e in events:
        writer.writerow([_cell(getattr(e, c)) for c in CSV_COLUMNS])
    return out.getvalue()
