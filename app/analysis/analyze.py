"""One analysis run for a symbol: load the latest stored bars, score, store; the job writes hot state.

``analyze_symbol(conn, exchange, symbol)`` loads the last ``config.history_bars`` stored bars of
every timeframe (only bars already stored, so a signal at bar t sees bars <= t), computes the
indicators and events once per timeframe (``scoring.analyze_frames``), upserts one ``signals`` row
per timeframe plus a ``'fused'`` row (unique per exchange, symbol, timeframe, bar_time: a re-run
rewrites the same rows) and returns the snapshot (``app.analysis.snapshot``). Nothing here commits,
except that ``end_read`` (the caller's, e.g. the session's ``commit``) is called between the read and
the computation, so no transaction stays open, idle, while indicators are computed.

``memo`` (an :class:`app.analysis.incremental.FrameMemo`) lets a run reuse the result of a timeframe
whose bars did not change since the last run (a new 1m bar leaves 1h..1d as they were): the same
inputs give the same outputs, so the snapshot equals a full recompute.
"""
from __future__ import annotations

from datetime import datetime

from app.analysis.config import ScoringConfig
from app.analysis.loading import load_frames
from app.analysis.scoring import analyze_frames
from app.analysis.snapshot import EVENT_BARS, build_snapshot, event_records
from app.analysis.store import Conn, as_connection, store_signals


def analyze_symbol(conn: Conn, exchange: str, symbol: str, config: ScoringConfig | None = None,
                   now: datetime | None = None, end_read=None, memo=None) -> dict:
    """Score the latest stored bar of every timeframe and store the rows; return the snapshot."""
    config = config or ScoringConfig()
    exchange = exchange.strip().lower()
    frames = load_frames(as_connection(conn), exchange, symbol, limit=config.history_bars)
    if end_read is not None:
        end_read()
    signals, fused, events = analyze_frames(frames, symbol, config, events_bars=EVENT_BARS,
                                            memo=memo, memo_key=f"{exchange}|{symbol}")
    conn = as_connection(conn)
    snapshot = build_snapshot(exchange, signals, fused,
                              {tf: event_records(events[tf], frames[tf].index) for tf in signals},
                              computed_at=now)
    store_signals(conn, exchange, signals, fused, snapshot, now=now)
    return snapshot
