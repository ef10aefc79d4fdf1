"""The closed-bar inputs of one symbol, read from storage (candles, stored scores, predictions).

``load_bars(conn, exchange, symbol, timeframes, now, needs)`` reads the last ``EVAL_BARS`` stored
bars of each timeframe that active rules use, drops the bar still forming, computes the indicator
and event arrays once per timeframe, and aligns stored scores and p(up) onto the bars with no
look-ahead: a stored value counts at a bar only when it was known by that bar's close.
"""
from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import select

from app.alerts.bars import Bars, aligned, closed_only, from_candles
from app.analysis.loading import UnknownSymbol, stored_timeframes
from app.market import store
from app.marketdata import TIMEFRAMES, timeframe_delta
from app.models.ml import Prediction
from app.models.signal import FUSED, SignalRecord

EVAL_BARS = 400  # enough for SMA200 and every window a rule may use (percent move, volume z)


def _known_by_close(bars: Bars, known_at: pd.DatetimeIndex, values, dtype: str) -> np.ndarray:
    """Each bar gets the latest value known at or before its close (merge-as-of, backward)."""
    n = len(bars)
    if n == 0 or len(known_at) == 0:
        return np.full(n, np.nan) if dtype != "object" else np.full(n, None, dtype=object)
    closes = bars.times + timeframe_delta(bars.timeframe)
    order = np.argsort(known_at.asi8, kind="stable")
    k = known_at.asi8[order]
    v = np.asarray(list(values), dtype=object if dtype == "object" else dtype)[order]
    pos = np.searchsorted(k, closes.as_unit(known_at.unit).asi8, side="right") - 1
    out = np.where(pos >= 0, v[np.clip(pos, 0, None)], None if dtype == "object" else np.nan)
    return out.astype(object if dtype == "object" else dtype)


def _scores(conn, exchange: str, symbol: str, bars: Bars, fastest: str) -> None:
    if len(bars) == 0:
        return
    s = SignalRecord.__table__.c
    start = bars.times[0].to_pydatetime() - timeframe_delta("1d")
    rows = conn.execute(select(s.timeframe, s.bar_time, s.score, s.label)
                        .where(s.exchange == exchange, s.symbol == symbol, s.bar_time >= start)).all()
    frame = pd.DataFrame(rows, columns=["timeframe", "bar_time", "score", "label"])
    frame["bar_time"] = pd.to_datetime(frame["bar_time"], utc=True)
    for source in [FUSED, *TIMEFRAMES]:
        part = frame[frame["timeframe"] == source]
        if part.empty:
            continue
        # a row is known once its bar has closed (the fused row: its freshest timeframe's bar)
        known = pd.DatetimeIndex(part["bar_time"]) + timeframe_delta(fastest if source == FUSED else source)
        bars.scores[source] = _known_by_close(bars, known, part["score"], "float64")
        bars.labels[source] = _known_by_close(bars, known, part["label"], "object")


def _p_up(conn, exchange: str, symbol: str, bars: Bars) -> None:
    if len(bars) == 0:
        return
    p = Prediction.__table__.c
    rows = conn.execute(select(p.bar_time, p.p_up, p.model_version)
                        .where(p.exchange == exchange, p.symbol == symbol, p.timeframe == bars.timeframe,
                               p.bar_time >= bars.times[0].to_pydatetime(),
                               p.role == "champion", p.p_up.is_not(None))  # not a challenger's shadow rows
                        .order_by(p.bar_time, p.model_version)).all()
    if rows:
        frame = pd.DataFrame(rows, columns=["bar_time", "p_up", "v"])
        bars.p_up = aligned(bars.times, pd.to_datetime(frame["bar_time"], utc=True), frame["p_up"])


def load_bars(conn, exchange: str, symbol: str, timeframes, now: datetime, needs=("candles",)) -> dict[str, Bars]:
    """timeframe -> the closed-bar inputs (only timeframes stored for the symbol)."""
    conn = store.as_connection(conn)
    try:
        ids = stored_timeframes(conn, exchange, symbol)
    except UnknownSymbol:
        return {}
    out: dict[str, Bars] = {}
    fastest = next(iter(ids), "1m")
    for tf in [t for t in ids if t in set(timeframes)]:
        candles = closed_only(store.load_candles(conn, ids[tf], limit=EVAL_BARS + 1), tf, now)
        bars = from_candles(symbol, tf, candles)
        if "scores" in needs:
            _scores(conn, exchange, symbol, bars, fastest)
        if "p_up" in needs:
            _p_up(conn, exchange, symbol, bars)
        out[tf] = bars
    return out
