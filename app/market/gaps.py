"""Find missing bars so the next ingest run can backfill them.

:func:`find_gaps` compares the open times we have with every aligned open time
expected in ``[start, end)`` and returns the missing runs as half-open
``(gap_start, gap_end)`` pairs: ``gap_start`` is the first missing open time,
``gap_end`` the open time of the next bar present (or ``end``). Each pair can be
passed straight to ``source.fetch_candles(symbol, tf, gap_start, gap_end)``.

Defaults: ``start`` = first bar, ``end`` = last bar + one bar. For "everything up
to now" pass ``end=closed_until(now, tf)``, which excludes the bar still forming.
"""
from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from app.marketdata import timeframe_seconds

NS = 10**9


def _ts(value: datetime | pd.Timestamp, what: str) -> pd.Timestamp:
    t = pd.Timestamp(value)
    if t.tzinfo is None:
        raise ValueError(f"{what} must be timezone-aware (UTC), got naive {t.isoformat()}")
    return t.tz_convert("UTC")


def floor_time(t: datetime | pd.Timestamp, timeframe: str) -> pd.Timestamp:
    """The open time of the ``timeframe`` bar containing ``t`` (UTC epoch alignment)."""
    step = timeframe_seconds(timeframe) * NS
    ns = _ts(t, "time").as_unit("ns").value
    return pd.Timestamp((ns // step) * step, unit="ns", tz="UTC")


def closed_until(now: datetime | pd.Timestamp, timeframe: str) -> pd.Timestamp:
    """Exclusive bound on open times of CLOSED bars at ``now`` (= open of the forming bar)."""
    return floor_time(now, timeframe)


def find_gaps(index: pd.DatetimeIndex, timeframe: str, start: datetime | None = None,
              end: datetime | None = None) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Missing bars of ``timeframe`` in ``[start, end)`` as ``(gap_start, gap_end)`` pairs."""
    step = timeframe_seconds(timeframe) * NS
    if not isinstance(index, pd.DatetimeIndex):
        index = pd.DatetimeIndex(index)
    if len(index) and index.tz is None:
        raise ValueError("index is timezone-naive; open times must be tz-aware UTC")
    have = np.unique(index.dropna().tz_convert("UTC").as_unit("ns").asi8) if len(index) else np.array([], "int64")
    if len(have) and np.any(have % step):
        bad = pd.Timestamp(have[have % step != 0][0], unit="ns", tz="UTC")
        raise ValueError(f"open time {bad.isoformat()} is not aligned to {timeframe}")

    if start is None:
        if not len(have):
            return []
        lo = int(have[0])
    else:
        s = _ts(start, "start").as_unit("ns").value
        lo = -(-s // step) * step  # first aligned open time >= start
    if end is None:
        if not len(have):
            return []
        hi = int(have[-1]) + step
    else:
        hi = _ts(end, "end").as_unit("ns").value
    if hi <= lo:
        return []

    have = have[(have >= lo) & (have < hi)]
    # Sentinels: a virtual bar just before lo and one at the first aligned time >= hi.
    hi_aligned = -(-hi // step) * step
    points = np.concatenate(([lo - step], have, [hi_aligned]))
    jumps = np.flatnonzero(np.diff(points) > step)
    out = []
    for j in jumps:
        g0 = int(points[j]) + step
        g1 = min(int(points[j + 1]), hi)
        if g1 > g0:
            out.append((pd.Timestamp(g0, unit="ns", tz="UTC"), pd.Timestamp(g1, unit="ns", tz="UTC")))
    return out


def missing_count(gaps: list[tuple[pd.Timestamp, pd.Timestamp]], timeframe: str) -> int:
    """How many bars the gaps cover (bars whose open time is in each half-open gap)."""
    step = timeframe_seconds(timeframe) * NS
    return sum(int(-(-(b.value - a.value) // step)) for a, b in gaps)
