"""What the Alerts page reads: events with their delivery attempts, unread counts, rule statistics."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, or_, select, update

from app.market.store import as_connection
from app.models.alert import AlertAttempt, AlertDelivery, AlertEvent, AlertRule

E, D, A, R = AlertEvent.__table__.c, AlertDelivery.__table__.c, AlertAttempt.__table__.c, AlertRule.__table__.c


def unread(conn, user_id: int) -> tuple[int, dict | None]:
    """(unread events, the newest unread one) of ``user_id``: the navbar badge and toast."""
    c = as_connection(conn)
    n = c.execute(select(func.count()).where(E.user_id == user_id, E.read_at.is_(None))).scalar_one()
    newest = c.execute(select(E.id, E.message, E.fired_at).where(E.user_id == user_id, E.read_at.is_(None))
                       .order_by(E.id.desc()).limit(1)).first()
    return int(n), (dict(newest._mapping) if newest else None)


def mark_read(conn, user_id: int, now: datetime | None = None) -> int:
    return as_connection(conn).execute(update(AlertEvent.__table__).where(E.user_id == user_id, E.read_at.is_(None))
                                       .values(read_at=now or datetime.now(timezone.utc))).rowcount


def events(conn, user_id: int, search: str = "", symbol: str | None = None, channel_status: str | None = None,
           limit: int = 200) -> list[dict]:
    """The user's events, newest first, each with its deliveries and their attempts."""
    c = as_connection(conn)
    stmt = select(AlertEvent.__table__).where(E.user_id == user_id)
    if search:
        like = f"%{search.strip()[:100]}%"
        stmt = stmt.where(or_(E.message.ilike(like), E.symbol.ilike(like)))
    if symbol:
        stmt = stmt.where(E.symbol == symbol)
    if channel_status:  # in the query, so the limit counts matching events only
        stmt = stmt.where(select(D.id).where(D.event_id == E.id, D.status == channel_status).exists())
    rows = [dict(r._mapping) for r in c.execute(stmt.order_by(E.id.desc()).limit(int(limit))).all()]
    ids = [r["id"] for r in rows]
    by_event: dict[int, list[dict]] = {i: [] for i in ids}
    if ids:
        dels = c.execute(select(AlertDelivery.__table__).where(D.event_id.in_(ids)).order_by(D.id)).all()
        att: dict[int, list[dict]] = {}
        if dels:
            for a in c.execute(select(AlertAttempt.__table__).where(A.delivery_id.in_([d.id for d in dels]))
                               .order_by(A.id)).all():
                att.setdefault(a.delivery_id, []).append(dict(a._mapping))
        for d in dels:
            by_event[d.event_id].append({**dict(d._mapping), "attempts": att.get(d.id, [])})
    out = []
    for r in rows:
        r["deliveries"] = by_event[r["id"]]
        out.append(r)
    return out


def rule_stats(conn, user_id: int) -> dict[int, dict]:
    """rule id -> {triggers, last_fired, success: {channel: (sent, total)}} in two grouped queries."""
    c = as_connection(conn)
    stats: dict[int, dict] = {}
    for rule_id, n, last in c.execute(select(E.rule_id, func.count(), func.max(E.fired_at))
                                      .where(E.user_id == user_id).group_by(E.rule_id)).all():
        stats[rule_id] = {"triggers": int(n), "last_fired": last, "success": {}}
    q = (select(E.rule_id, D.channel, D.status, func.count()).join(AlertEvent.__table__, E.id == D.event_id)
         .where(E.user_id == user_id).group_by(E.rule_id, D.channel, D.status))
    for rule_id, channel, status, n in c.execute(q).all():
        sent, total = stats.setdefault(rule_id, {"triggers": 0, "last_fired": None, "success": {}})["success"] \
            .get(channel, (0, 0))
        if status == "suppressed":
            continue
        stats[rule_id]["success"][channel] = (sent + (n if status == "sent" else 0), total + n)
    return stats


def stale_data(conn, rules, watchlist, now: datetime) -> dict[tuple[str, str, str], datetime | None]:
    """The series the live ``rules`` watch whose data went stale (``app.alerts.staleness``), with
    their newest bar: the rule list flags them."""
    from app.alerts.staleness import stale_series
    from app.alerts.store import last_bars

    keys = set()
    for r in rules:
        if r.paused or r.finished:
            continue
        keys |= {(r.exchange, s, r.timeframe) for s in ([r.symbol] if r.symbol else list(watchlist))}
    return stale_series(last_bars(conn, keys), now)
