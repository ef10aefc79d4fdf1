"""Storage of rules, events and deliveries (through the session or connection it is given; never commits).

``record_firings`` inserts events with ``ON CONFLICT (rule_id, symbol, bar_time) DO NOTHING``: a
re-evaluated bar, a retried job or a second worker inserts nothing, and only the inserts that won
get deliveries (one row per event and outside channel, unique too).
"""
from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.alerts.evaluate import Firing, RuleSpec, UserPrefs
from app.alerts.gating import Gate
from app.market.store import as_connection
from app.marketdata import timeframe_delta
from app.models.alert import AlertCursor, AlertDelivery, AlertEvent, AlertRule, NotificationSettings

OUTSIDE_CHANNELS = ("telegram", "email", "webhook")
R, E, D, N, C = (AlertRule.__table__.c, AlertEvent.__table__.c, AlertDelivery.__table__.c,
                 NotificationSettings.__table__.c, AlertCursor.__table__.c)


def _utc(value: datetime | None) -> datetime | None:
    """SQLite through Core returns naive UTC."""
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


def _insert(conn):
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


def _spec(row) -> RuleSpec:
    return RuleSpec(id=row.id, user_id=row.user_id, name=row.name, symbol=row.symbol, timeframe=row.timeframe,
                    kind=row.kind, params=dict(row.params), channels=tuple(row.channels),
                    gate=Gate(row.frequency, row.cooldown_s, row.expires_at, row.paused, row.finished),
                    quiet_start=row.quiet_start, quiet_end=row.quiet_end,
                    since=_utc(max(row.created_at, row.updated_at)))


def active_rules(conn, exchange: str, symbol: str, now: datetime) -> list[RuleSpec]:
    """The rules that may fire on (exchange, symbol): its own and the watch-list ones, live, in one query."""
    c = as_connection(conn)
    rows = c.execute(select(AlertRule.__table__).where(
        R.exchange == exchange, or_(R.symbol == symbol, R.symbol.is_(None)), R.paused.is_(False),
        R.finished.is_(False), or_(R.expires_at.is_(None), R.expires_at > now))).all()
    return [_spec(r) for r in rows]


def user_prefs(conn, user_ids) -> dict[int, UserPrefs]:
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    rows = as_connection(conn).execute(select(NotificationSettings.__table__).where(N.user_id.in_(ids))).all()
    return {r.user_id: UserPrefs(r.timezone, r.quiet_start, r.quiet_end, r.alerts_paused) for r in rows}


def last_fired(conn, rules: list[RuleSpec], symbol: str) -> dict[tuple[int, str], datetime]:
    """(rule id, symbol) -> close time of the rule's latest event on the symbol, in one grouped query."""
    if not rules:
        return {}
    tf = {r.id: r.timeframe for r in rules}
    rows = as_connection(conn).execute(
        select(E.rule_id, func.max(E.bar_time)).where(E.rule_id.in_(list(tf)), E.symbol == symbol)
        .group_by(E.rule_id)).all()
    out = {}
    for rule_id, bar_time in rows:
        if bar_time.tzinfo is None:  # SQLite through Core returns naive UTC
            bar_time = bar_time.replace(tzinfo=timezone.utc)
        out[(rule_id, symbol)] = bar_time + timeframe_delta(tf[rule_id])
    return out


def record_firings(conn, exchange: str, firings: list[Firing], now: datetime) -> list[dict]:
    """Insert the events that are new; returns them with their delivery ids ``{event_id, deliveries: {channel: id}}``."""
    if not firings:
        return []
    c = as_connection(conn)
    ins = _insert(c)
    created = []
    for f in firings:
        row = c.execute(ins(AlertEvent.__table__).values(
            rule_id=f.rule_id, user_id=f.user_id, exchange=exchange, symbol=f.symbol, timeframe=f.timeframe,
            bar_time=f.bar_time, fired_at=now, value=f.value, message=f.message,
        ).on_conflict_do_nothing(index_elements=["rule_id", "symbol", "bar_time"]).returning(E.id)).first()
        if row is None:
            continue  # this (rule, symbol, bar) fired already
        deliveries = {}
        for channel in (ch for ch in f.channels if ch in OUTSIDE_CHANNELS):
            status = "suppressed" if f.quiet else "pending"
            did = c.execute(ins(AlertDelivery.__table__).values(
                event_id=row[0], channel=channel, status=status, attempts=0,
                error="quiet hours" if f.quiet else None,
            ).on_conflict_do_nothing(index_elements=["event_id", "channel"]).returning(D.id)).first()
            if did is not None and status == "pending":
                deliveries[channel] = did[0]
        if f.finishes:
            c.execute(update(AlertRule.__table__).where(R.id == f.rule_id).values(finished=True, updated_at=now))
        created.append({"event_id": row[0], "rule_id": f.rule_id, "user_id": f.user_id, "symbol": f.symbol,
                        "deliveries": deliveries})
    return created


def pending_deliveries(conn, older_than: datetime | None = None, limit: int = 500,
                       retried_before: datetime | None = None) -> list[int]:
    """Deliveries still waiting (after an emergency stop is lifted, or whose job was lost).

    ``retried_before``: a delivery already tried and waiting for its backoff retry (claimed, then put
    back to ``pending``) counts only if it was last claimed before this time, so the sweep does not
    cut the queue's backoff short; one whose retry was lost is still picked up after that."""
    stmt = select(D.id).where(D.status == "pending")
    if retried_before is not None:
        stmt = stmt.where(or_(D.claimed_at.is_(None), D.claimed_at < retried_before))
    if older_than is not None:
        stmt = stmt.join(AlertEvent.__table__, E.id == D.event_id).where(E.fired_at < older_than)
    return [r[0] for r in as_connection(conn).execute(stmt.order_by(D.id).limit(limit)).all()]


def watched_series(conn, now: datetime, exchange_symbols: list[tuple[str, str]]) -> set[tuple[str, str, str]]:
    """The (exchange, symbol, timeframe) series live rules watch (watch-list rules: each of ``exchange_symbols``)."""
    live = as_connection(conn).execute(select(R.exchange, R.symbol, R.timeframe).where(
        R.paused.is_(False), R.finished.is_(False), or_(R.expires_at.is_(None), R.expires_at > now)).distinct()).all()
    out: set[tuple[str, str, str]] = set()
    for ex, sym, tf in live:
        if sym is None:
            out |= {(e, s, tf) for e, s in exchange_symbols if e == ex}
        else:
            out.add((ex, sym, tf))
    return out


def last_bars(conn, keys) -> dict[tuple[str, str, str], datetime | None]:
    """(exchange, symbol, timeframe) -> open time of its newest stored bar (None: nothing stored)."""
    from app.market.store import list_series

    wanted = set(keys)
    if not wanted:
        return {}
    frame = list_series(conn)
    found = {(r.exchange, r.symbol, r.timeframe): (None if pd.isna(r.last) else r.last.to_pydatetime())
             for r in frame.itertuples(index=False) if (r.exchange, r.symbol, r.timeframe) in wanted}
    return {k: found.get(k) for k in sorted(wanted)}


def symbols_with_live_rules(conn, now: datetime, exchange_symbols: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The (exchange, symbol) pairs that have live rules: the periodic sweep re-evaluates them."""
    c = as_connection(conn)
    live = c.execute(select(R.exchange, R.symbol).where(
        R.paused.is_(False), R.finished.is_(False), or_(R.expires_at.is_(None), R.expires_at > now)).distinct()).all()
    wanted = set()
    for ex, sym in live:
        if sym is None:
            wanted |= {p for p in exchange_symbols if p[0] == ex}
        else:
            wanted.add((ex, sym))
    return sorted(wanted)


def cursors(conn, exchange: str, symbol: str) -> dict[str, datetime]:
    """timeframe -> open time of the newest bar of (exchange, symbol) the rules were evaluated on."""
    rows = as_connection(conn).execute(select(C.timeframe, C.evaluated_through)
                                       .where(C.exchange == exchange, C.symbol == symbol)).all()
    return {tf: _utc(at) for tf, at in rows}


def advance_cursors(conn, exchange: str, symbol: str, through: dict[str, datetime], now: datetime) -> None:
    """Record that the bars up to ``through[timeframe]`` were evaluated (never moves a cursor back)."""
    if not through:
        return
    c = as_connection(conn)
    ins = _insert(c)
    for tf, at in sorted(through.items()):
        stmt = ins(AlertCursor.__table__).values(exchange=exchange, symbol=symbol, timeframe=tf,
                                                 evaluated_through=at, evaluated_at=now)
        c.execute(stmt.on_conflict_do_update(
            index_elements=["exchange", "symbol", "timeframe"],
            set_={"evaluated_through": stmt.excluded.evaluated_through, "evaluated_at": stmt.excluded.evaluated_at},
            where=C.evaluated_through < stmt.excluded.evaluated_through))
