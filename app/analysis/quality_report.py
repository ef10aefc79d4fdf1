"""The signal-quality report and the score history behind it, recomputed when stale (the analysis job).

``refresh_quality(conn, exchange, symbol)`` recomputes the cached report when it is older than
``max_age``: ``score_series`` over the last ``QUALITY_BARS`` stored bars of each timeframe (out of
sample: fixed hand-set weights, every score at bar t from bars <= t), ``signal_quality`` on those
scores, one ``signal_quality`` row per timeframe; it also stores the last ``HISTORY_BARS``
per-timeframe scores as ``signals`` rows (existing rows are kept) so the score history chart has
depth from the first run.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import select

from app.analysis.config import ScoringConfig
from app.analysis.loading import stored_timeframes
from app.analysis.quality import signal_quality
from app.analysis.scoring import score_series
from app.analysis.store import (QUALITY, Conn, as_connection, as_utc, py_time, signal_row, upsert_quality_rows,
                                upsert_signal_rows, utcnow)
from app.market import store
from app.marketdata import validate_symbol

QUALITY_BARS = 20_000  # bars per timeframe scored for the quality report (1m: ~2 weeks)
QUALITY_HORIZONS = (1, 4, 12)
QUALITY_MAX_AGE = timedelta(minutes=30)
HISTORY_BARS = 300  # per-timeframe score history stored by refresh_quality


def _records(frame: pd.DataFrame) -> list[dict]:
    """JSON-safe records (NaN -> None)."""
    out = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return [{k: (v.item() if isinstance(v, np.generic) else v) for k, v in r.items()} for r in out]


def quality_for_frame(candles: pd.DataFrame, timeframe: str, config: ScoringConfig | None = None,
                      horizons=QUALITY_HORIZONS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(scores from ``score_series``, ``signal_quality`` report) for one timeframe's candles."""
    scores = score_series(candles, timeframe, config)
    return scores, signal_quality(candles, scores, horizons=horizons)


def refresh_quality(conn: Conn, exchange: str, symbol: str, config: ScoringConfig | None = None,
                    now: datetime | None = None, max_age: timedelta = QUALITY_MAX_AGE) -> bool:
    """Recompute the stored quality report (and score history) if older than ``max_age``; True if it did."""
    now = now or utcnow()
    exchange = exchange.strip().lower()
    sym = validate_symbol(symbol)
    c = as_connection(conn)
    q = QUALITY.c
    oldest = c.execute(select(q.computed_at).where(q.exchange == exchange, q.symbol == sym)
                       .order_by(q.computed_at)).scalars().first()
    if oldest is not None and now - as_utc(oldest) < max_age:
        return False
    reports, history = [], []
    for tf, sid in stored_timeframes(c, exchange, sym).items():
        candles = store.load_candles(c, sid, limit=QUALITY_BARS)
        scores, report = quality_for_frame(candles, tf, config)
        reports.append({"exchange": exchange, "symbol": sym, "timeframe": tf, "bars": len(candles),
                        "first_bar": py_time(candles.index[0]), "last_bar": py_time(candles.index[-1]),
                        "rows": _records(report), "computed_at": now})
        tail = scores.iloc[-HISTORY_BARS:]
        pts_cols = [col for col in tail.columns if col.startswith("pts_")]
        for t, r in zip(tail.index, tail.to_dict("records")):
            reasons = sorted(({"text": f"{col[4:]} on {tf}: {r[col]:+.1f}", "points": round(float(r[col]), 2),
                               "component": col[4:]} for col in pts_cols if abs(r[col]) >= 0.05),
                             key=lambda x: -abs(x["points"]))
            history.append(signal_row(exchange, tf, sym, t, r["score"], r["confidence"], r["label"], reasons,
                                       None, None, now))
    upsert_quality_rows(c, reports)
    upsert_signal_rows(c, history, overwrite=False)
    return True
