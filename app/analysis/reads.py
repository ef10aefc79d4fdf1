"""What the Signals page reads: snapshots (hot state first), score history, the quality report.

Unknown symbols give empty results; every function takes the caller's connection or session.
"""
from __future__ import annotations

import pandas as pd
from sqlalchemy import select

from app.analysis.store import QUALITY, SIGNALS, Conn, as_connection, as_utc
from app.hot.signals import SignalCache
from app.marketdata import TIMEFRAMES, validate_symbol
from app.models.signal import FUSED


def latest_snapshot_from_db(conn: Conn, exchange: str, symbol: str) -> dict | None:
    """The newest fused row's snapshot for (exchange, symbol), or None."""
    s = SIGNALS.c
    stmt = (select(s.details).where(s.exchange == exchange, s.symbol == validate_symbol(symbol),
                                    s.timeframe == FUSED, s.details.is_not(None))
            .order_by(s.bar_time.desc()).limit(1))
    return as_connection(conn).execute(stmt).scalar_one_or_none()


def snapshots(conn: Conn, cache: SignalCache | None, exchanges: dict[str, str]) -> dict[str, dict | None]:
    """symbol -> latest snapshot (Redis first, then the DB) for ``exchanges`` = {symbol: exchange}."""
    cached = cache.read_many(exchanges) if cache is not None else {}
    out = {}
    for symbol, exchange in exchanges.items():
        snap = cached.get(symbol)
        if snap is None or snap.get("exchange") != exchange:
            snap = latest_snapshot_from_db(conn, exchange, symbol)
        out[symbol] = snap
    return out


def score_history(conn: Conn, exchange: str, symbol: str, limit: int = 2000) -> pd.DataFrame:
    """Stored scores of (exchange, symbol): ``timeframe, bar_time, score, confidence, label``, oldest first."""
    s = SIGNALS.c
    stmt = (select(s.timeframe, s.bar_time, s.score, s.confidence, s.label)
            .where(s.exchange == exchange, s.symbol == validate_symbol(symbol))
            .order_by(s.bar_time.desc()).limit(int(limit)))
    rows = as_connection(conn).execute(stmt).all()
    frame = pd.DataFrame(rows, columns=["timeframe", "bar_time", "score", "confidence", "label"])
    frame["bar_time"] = pd.to_datetime(frame["bar_time"], utc=True)
    return frame.iloc[::-1].reset_index(drop=True)


def quality_report(conn: Conn, exchange: str, symbol: str) -> tuple[pd.DataFrame, dict[str, dict]]:
    """The cached quality rows (a ``timeframe`` column added) and per-timeframe metadata."""
    q = QUALITY.c
    stmt = (select(q.timeframe, q.bars, q.first_bar, q.last_bar, q.rows, q.computed_at)
            .where(q.exchange == exchange, q.symbol == validate_symbol(symbol)))
    found = {r.timeframe: r for r in as_connection(conn).execute(stmt)}
    frames, meta = [], {}
    for tf in [t for t in TIMEFRAMES if t in found]:
        r = found[tf]
        meta[tf] = {"bars": r.bars, "first_bar": as_utc(r.first_bar), "last_bar": as_utc(r.last_bar),
                    "computed_at": as_utc(r.computed_at)}
        part = pd.DataFrame(r.rows)
        part.insert(0, "timeframe", tf)
        frames.append(part)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["timeframe", "horizon", "label"])
    return frame, meta
