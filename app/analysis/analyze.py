"""One analysis run for a symbol: load the latest stored bars, score, store; the job writes hot state.

``analyze_symbol(conn, exchange, symbol)`` loads the last ``config.history_bars`` stored bars of
every timeframe (only bars already stored, so a signal at bar t sees bars <= t), computes the
indicators and events once per timeframe (``scoring.analyze_frames``), upserts one ``signals`` row
per timeframe plus a ``'fused'`` row (unique per exchange, symbol, timeframe, bar_time: a re-run
rewrites the same rows) and returns the snapshot (``app.analysis.snapshot``). Nothing here commits.
"""
from __future__ import annotations

from datetime import datetime

from app.analysis.config import ScoringConfig
from app.analysis.loading import load_frames
from app.analysis.scoring import analyze_frames
from app.analysis.snapshot import EVENT_BARS, build_snapshot, event_records
from app.analysis.store import Conn, as_connection, store_signals


def analyze_symbol(conn: Conn, exchange: str, symbol: str, config: ScoringConfig | None = None,
                   now: datetime | None = None) -> dict:
    """Score the latest stored bar of every timeframe and store the rows; return the snapshot."""
    config = config or ScoringConfig()
    exchange = exchange.strip().lower()
    conn = as_connection(conn)
    frames = load_frames(conn, exchange, symbol, limit=config.history_bars)
    signals, fused, events = analyze_frames(frames, symbol, config, events_bars=EVENT_BARS)
    snapshot = build_snapshot(exchange, signals, fused,
                              {tf: event_records(events[tf], frames[tf].index) for tf in signals},
                              computed_at=now)
    store_signals(conn, exchange, signals, fused, snapshot, now=now)
    return snapshot
