"""Exactly-once delivery: the protocol on the ``alert_deliveries`` row (unique per event and channel).

1. **Claim before sending.** ``claim`` moves the row ``pending -> sending`` in one conditional
   ``UPDATE ... WHERE status = 'pending'`` that records the claiming job's id, and the caller commits
   it *before* any byte goes out. Two jobs for one delivery cannot both win the update.
2. **Send**, then **record the outcome after** (``record``): ``sent``; ``pending`` again for a
   retryable failure (5xx, timeout, a connection error; the job then raises so RQ's ``Retry``
   runs it again with backoff, and the retry claims afresh); ``failed`` for a permanent one (4xx,
   no address configured). Every attempt is an ``alert_attempts`` row (status, latency, response
   code, error).
3. **The ambiguous crash.** A worker that dies after the claim and before the record leaves the row
   in ``sending``: the message may or may not have left. When the retry of that same job (its id is
   on the claim), or any job after ``LEASE_S``, finds such a row, it marks it ``unknown`` and does
   **not** send again: a delivery is never sent twice (at most once on that one ambiguous path; the
   page shows it as "unknown" and the webhook carries ``X-Candlewise-Delivery`` so a receiver can
   deduplicate). A live claim of another job is left alone (``busy``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update

from app.market.store import as_connection
from app.models.alert import AlertAttempt, AlertDelivery, AlertEvent, NotificationSettings

LEASE_S = 300  # a claim older than this belongs to a dead worker (alerts job timeout is 60 s)
D, E = AlertDelivery.__table__.c, AlertEvent.__table__.c


@dataclass(frozen=True)
class Outcome:
    ok: bool
    retryable: bool = False
    code: int | None = None
    error: str | None = None
    latency_ms: float | None = None
    prior: tuple = ()  # earlier tries inside the same attempt (a 429 waited out): each recorded as 'retry'


@dataclass(frozen=True)
class Claim:
    state: str  # claimed | done | ambiguous | busy | missing
    delivery_id: int
    channel: str | None = None
    event: dict | None = None
    user_id: int | None = None


def claim(conn, delivery_id: int, claimer: str, now: datetime) -> Claim:
    c = as_connection(conn)
    won = c.execute(update(AlertDelivery.__table__)
                    .where(D.id == delivery_id, D.status == "pending")
                    .values(status="sending", claimed_at=now, claimed_by=claimer, attempts=D.attempts + 1)
                    .returning(D.id)).first()
    row = c.execute(select(D.status, D.channel, D.claimed_by, D.claimed_at, AlertEvent.__table__)
                    .join(AlertEvent.__table__, E.id == D.event_id).where(D.id == delivery_id)).first()
    if row is None:
        return Claim("missing", delivery_id)
    event = {k: getattr(row, k) for k in ("id", "rule_id", "user_id", "exchange", "symbol", "timeframe", "bar_time",
                                          "value", "message")}
    if won is not None:
        return Claim("claimed", delivery_id, row.channel, event, row.user_id)
    if row.status != "sending":
        return Claim("done", delivery_id, row.channel, event, row.user_id)
    claimed_at = row.claimed_at
    stale = claimed_at is None or (claimed_at.tzinfo and claimed_at < now - timedelta(seconds=LEASE_S))
    if row.claimed_by == claimer or stale:
        c.execute(update(AlertDelivery.__table__).where(D.id == delivery_id, D.status == "sending")
                  .values(status="unknown", finished_at=now,
                          error="the worker stopped between claiming and recording; not sent again"))
        c.execute(insert(AlertAttempt.__table__).values(delivery_id=delivery_id, started_at=now, status="unknown",
                                                        error="outcome of the interrupted attempt unknown"))
        return Claim("ambiguous", delivery_id, row.channel, event, row.user_id)
    return Claim("busy", delivery_id, row.channel, event, row.user_id)


def record(conn, delivery_id: int, outcome: Outcome, started: datetime, now: datetime, final: bool) -> str:
    """Record one attempt and the row's new state (``final``: no retry is left); returns the state."""
    c = as_connection(conn)
    for earlier in outcome.prior:
        c.execute(insert(AlertAttempt.__table__).values(
            delivery_id=delivery_id, started_at=started, latency_ms=earlier.latency_ms, status="retry",
            response_code=earlier.code, error=(earlier.error or None) and earlier.error[:500]))
    if outcome.ok:
        status = "sent"
    elif outcome.retryable and not final:
        status = "pending"
    else:
        status = "failed"
    c.execute(insert(AlertAttempt.__table__).values(
        delivery_id=delivery_id, started_at=started, latency_ms=outcome.latency_ms,
        status="sent" if outcome.ok else ("retry" if status == "pending" else "failed"),
        response_code=outcome.code, error=(outcome.error or None) and outcome.error[:500]))
    c.execute(update(AlertDelivery.__table__).where(D.id == delivery_id).values(
        status=status, finished_at=None if status == "pending" else now,
        claimed_by=None if status == "pending" else D.claimed_by, error=(outcome.error or None) and outcome.error[:500]))
    return status


def settings_row(conn, user_id: int):
    return as_connection(conn).execute(
        select(NotificationSettings.__table__).where(NotificationSettings.__table__.c.user_id == user_id)).first()
