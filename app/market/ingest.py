"""Incremental ingestion of one series: fetch since the last stored bar, validate, upsert.

Pure of Flask: it takes a connection, a source and the clock. The RQ job in
``workers/ingest.py`` is a thin shell around :func:`refresh_series`.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

import pandas as pd
from sqlalchemy.engine import Connection

from app.market import store
from app.market.gaps import find_gaps
from app.market.sources.base import Source
from app.market.sources.factory import fetch_candles_any
from app.marketdata import timeframe_delta, validate_symbol
from app.market.validate import validate_candles

log = logging.getLogger(__name__)
FIRST_FETCH_BARS = 1000  # history pulled for a series seen for the first time
GAP_LOOKBACK_BARS = 2000  # how far back each refresh looks for holes to backfill


@dataclass
class RefreshResult:
    exchange: str
    symbol: str
    timeframe: str
    fetched: int
    written: int
    rejected: int
    gaps_filled: int
    new_closed_bars: int
    last_bar: str | None

    def to_dict(self) -> dict:
        return asdict(self)


def refresh_series(conn: Connection, source: Source, symbol: str, timeframe: str,
                   now: datetime | None = None) -> tuple[RefreshResult, pd.DataFrame]:
    """Bring one series up to date. Returns the result and the newly written closed bars."""
    symbol = validate_symbol(symbol)
    step = timeframe_delta(timeframe)
    now = now or datetime.now(timezone.utc)
    series_id = store.get_or_create_series(conn, source.name, symbol, timeframe)
    last = store.last_candle_time(conn, series_id)
    aligned_now = pd.Timestamp(now).floor(step).to_pydatetime()
    since = (last + step) if last is not None else aligned_now - FIRST_FETCH_BARS * step

    frames = [fetch_candles_any(source, symbol, timeframe, since, now)] if since < now else []
    gaps_filled = 0
    if last is not None:
        window_start = pd.Timestamp(since) - GAP_LOOKBACK_BARS * step
        times = store.candle_times(conn, series_id, window_start, since)
        if len(times):
            for gap_start, gap_end in find_gaps(times, timeframe, start=times[0], end=pd.Timestamp(since)):
                frames.append(fetch_candles_any(source, symbol, timeframe, gap_start, gap_end))
                gaps_filled += 1
    fetched = pd.concat(frames) if len(frames) > 1 else (frames[0] if frames else pd.DataFrame())
    fetched_n = len(fetched)
    # validation sorts, keeps the last copy of a repeated bar (a gap fetch re-sending one) and checks
    # every row, once; the frame then travels checked into storage.
    result = validate_candles(fetched, timeframe, partial=True) if fetched_n else None
    valid = result.valid if result is not None else fetched
    written = store.upsert_candles(conn, series_id, valid) if len(valid) else 0
    rejected = len(result.rejected) if result is not None else 0
    if rejected:
        log.warning("%s %s %s: %d candles rejected: %s", source.name, symbol, timeframe, rejected,
                    "; ".join(str(r) for r in result.rejected[:5]))
    new_bars = valid[valid.index > last] if (last is not None and len(valid)) else valid
    last_bar = valid.index[-1].isoformat() if len(valid) else (last.isoformat() if last else None)
    return RefreshResult(source.name, symbol, timeframe, fetched_n, written, rejected, gaps_filled,
                         len(new_bars), last_bar), new_bars


def backfill_series(conn: Connection, source: Source, symbol: str, timeframe: str, since: datetime,
                    until: datetime, progress=None, chunk_bars: int = 20_000) -> RefreshResult:
    """Load history in chunks through the bulk path; ``progress(percent, phase)`` after each chunk."""
    symbol = validate_symbol(symbol)
    step = timeframe_delta(timeframe)
    if until <= since:
        raise ValueError(f"backfill range is empty: since {since.isoformat()} >= until {until.isoformat()}")
    series_id = store.get_or_create_series(conn, source.name, symbol, timeframe)
    total = (until - since) / step
    fetched = written = rejected = 0
    start = since
    while start < until:
        end = min(until, start + chunk_bars * step)
        frame = fetch_candles_any(source, symbol, timeframe, start, end)
        fetched += len(frame)
        if len(frame):
            result = validate_candles(frame, timeframe, partial=True)
            rejected += len(result.rejected)
            written += store.bulk_upsert_candles(conn, series_id, result.valid)
        start = end
        if progress is not None:
            progress(100.0 * min(1.0, ((start - since) / step) / total), f"{symbol} {timeframe} to {start:%Y-%m-%d %H:%M}")
    last = store.last_candle_time(conn, series_id)
    return RefreshResult(source.name, symbol, timeframe, fetched, written, rejected, 0, written,
                         last.isoformat() if last else None)
