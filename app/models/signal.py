"""Signals: the stored score per (exchange, symbol, timeframe, bar) and the cached quality report.

``signals`` holds one row per timeframe score and one per fused
multi-timeframe score (``timeframe = 'fused'``) for each analysed bar.
The unique key ``(exchange, symbol, timeframe, bar_time)`` makes re-running
an analysis idempotent (rows are upserted). ``reasons`` is the ordered list
of ``Reason.to_dict()``; ``details`` holds extra JSON: the fused row keeps the
whole snapshot the Signals page shows (per-timeframe breakdown, recent
events), so embedded mode (no Redis) reads the same document from here.

``signal_quality`` caches the out-of-sample quality report of one
(exchange, symbol, timeframe): computing it scores the whole stored history,
so the analysis job refreshes it now and then and pages only read it.
"""
from __future__ import annotations

from datetime import datetime, timezone

from app.extensions import db
from app.models.types import UTCDateTime

FUSED = "fused"  # the timeframe value of a fused multi-timeframe row


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class SignalRecord(db.Model):
    __tablename__ = "signals"
    __table_args__ = (
        db.UniqueConstraint("exchange", "symbol", "timeframe", "bar_time", name="uq_signals_key"),
        db.Index("ix_signals_symbol_bar_time", "symbol", "bar_time"),
    )

    id = db.Column(db.Integer, primary_key=True)
    exchange = db.Column(db.String(32), nullable=False)
    symbol = db.Column(db.String(32), nullable=False)
    timeframe = db.Column(db.String(8), nullable=False)  # 1m..1d or 'fused'
    bar_time = db.Column(UTCDateTime(), nullable=False)  # open time of the scored bar, UTC
    score = db.Column(db.Float, nullable=False)
    confidence = db.Column(db.Float, nullable=False)
    label = db.Column(db.String(16), nullable=False)
    reasons = db.Column(db.JSON, nullable=False)
    details = db.Column(db.JSON, nullable=True)
    model_version = db.Column(db.String(64), nullable=True)
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)

    def __repr__(self) -> str:
        return f"<SignalRecord {self.symbol} {self.timeframe} {self.bar_time} {self.score:.1f}>"


class SignalQualityReport(db.Model):
    __tablename__ = "signal_quality"
    __table_args__ = (db.UniqueConstraint("exchange", "symbol", "timeframe", name="uq_signal_quality_key"),)

    id = db.Column(db.Integer, primary_key=True)
    exchange = db.Column(db.String(32), nullable=False)
    symbol = db.Column(db.String(32), nullable=False)
    timeframe = db.Column(db.String(8), nullable=False)
    bars = db.Column(db.Integer, nullable=False)  # bars scored
    first_bar = db.Column(UTCDateTime(), nullable=True)
    last_bar = db.Column(UTCDateTime(), nullable=True)
    rows = db.Column(db.JSON, nullable=False)  # signal_quality(...) records
    computed_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
