"""Signal storage: the ``signals`` rows (per timeframe and fused) and the cached quality reports.

Every function takes a SQLAlchemy ``Connection`` or ``Session``; nothing here commits (the caller
owns the transaction). Each write runs in a SAVEPOINT.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.analysis.types import FusedSignal, Signal
from app.market.store import as_connection
from app.models.signal import FUSED, SignalQualityReport, SignalRecord

SIGNALS = SignalRecord.__table__
QUALITY = SignalQualityReport.__table__

Conn = Connection | Session


def _insert(conn: Connection):
    if conn.dialect.name == "postgresql":
        return postgresql.insert
    if conn.dialect.name == "sqlite":
        return sqlite.insert
    raise ValueError(f"signals storage supports PostgreSQL and SQLite, not {conn.dialect.name!r}")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def py_time(t) -> datetime:
    return pd.Timestamp(t).tz_convert("UTC").to_pydatetime()


def as_utc(value) -> datetime:
    return pd.Timestamp(value).tz_convert("UTC").to_pydatetime() if pd.Timestamp(value).tzinfo \
        else pd.Timestamp(value).tz_localize("UTC").to_pydatetime()


def signal_row(exchange: str, timeframe: str, symbol: str, bar_time, score: float, confidence: float,
                label: str, reasons: list[dict], details: dict | None, model_version: str | None,
                now: datetime) -> dict:
    return {"exchange": exchange, "symbol": symbol, "timeframe": timeframe, "bar_time": py_time(bar_time),
            "score": float(score), "confidence": float(confidence), "label": label, "reasons": reasons,
            "details": details, "model_version": model_version, "created_at": now}


def upsert_signal_rows(conn: Conn, rows: list[dict], overwrite: bool = True) -> int:
    """Insert ``signals`` rows; on the unique key update them (or keep the old ones if not ``overwrite``)."""
    if not rows:
        return 0
    c = as_connection(conn)
    stmt = _insert(c)(SIGNALS)
    key = ["exchange", "symbol", "timeframe", "bar_time"]
    if overwrite:
        cols = ("score", "confidence", "label", "reasons", "details", "model_version", "created_at")
        stmt = stmt.on_conflict_do_update(index_elements=key, set_={k: stmt.excluded[k] for k in cols})
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=key)
    with c.begin_nested():
        return max(c.execute(stmt, rows).rowcount, 0)


def store_signals(conn: Conn, exchange: str, signals: dict[str, Signal], fused: FusedSignal,
                  snapshot: dict, now: datetime | None = None) -> int:
    """Upsert one row per timeframe and the fused row (whose details hold ``snapshot``)."""
    now = now or utcnow()
    rows = [signal_row(exchange, tf, s.symbol, s.bar_time, s.score, s.confidence, s.label,
                        [r.to_dict() for r in s.reasons], None, s.model_version, now)
            for tf, s in signals.items()]
    rows.append(signal_row(exchange, FUSED, fused.symbol, fused.bar_time, fused.score, fused.confidence,
                            fused.label, [r.to_dict() for r in fused.reasons], snapshot, None, now))
    return upsert_signal_rows(conn, rows)


def upsert_quality_rows(conn: Conn, reports: list[dict]) -> None:
    """Insert or replace one cached quality report per (exchange, symbol, timeframe)."""
    if not reports:
        return
    c = as_connection(conn)
    stmt = _insert(c)(QUALITY)
    cols = ("bars", "first_bar", "last_bar", "rows", "computed_at")
    stmt = stmt.on_conflict_do_update(index_elements=["exchange", "symbol", "timeframe"],
                                      set_={k: stmt.excluded[k] for k in cols})
    with c.begin_nested():
        c.execute(stmt, reports)
