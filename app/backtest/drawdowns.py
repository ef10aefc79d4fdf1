"""The worst drawdowns of an equity curve, one row each (the tear sheet's drawdown table).

A drawdown starts at the last bar on a running peak, reaches its trough at the
lowest bar below that peak, and recovers at the first bar back at or above the
peak. One still under water at the last bar has no recovery; its length runs to
the last bar. Uses only bars up to each point (no look-ahead in the periods).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from app.backtest.metrics import DAY_SECONDS, drawdown

DRAWDOWN_COLUMNS = ["start", "trough", "recovery", "depth", "length_days", "recovered"]


def drawdown_periods(equity: pd.Series) -> pd.DataFrame:
    """Every drawdown of ``equity`` in time order, columns ``DRAWDOWN_COLUMNS``.

    ``depth`` is the trough's fraction below the peak (negative); ``recovery`` is
    ``NaT`` while the curve is still below the peak; ``length_days`` is the
    calendar time from the peak to the recovery (or to the last bar)."""
    dd = drawdown(equity).to_numpy()
    times = equity.index
    uw = dd < 0
    if not uw.any():
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
            DRAWDOWN_COLUMNS, ["datetime64[ns, UTC]"] * 3 + ["float64", "float64", "bool"])})
    prev = np.r_[False, uw[:-1]]
    nxt = np.r_[uw[1:], False]
    starts = np.flatnonzero(uw & ~prev)           # first bar under water
    ends = np.flatnonzero(uw & ~nxt)              # last bar under water
    n = len(dd)
    troughs = np.array([s + int(np.argmin(dd[s:e + 1])) for s, e in zip(starts, ends)])
    recovered = ends + 1 < n
    peak_t = times[np.maximum(starts - 1, 0)]
    end_t = times[np.minimum(ends + 1, n - 1)]
    recovery = pd.DatetimeIndex(end_t).where(recovered, pd.NaT)
    return pd.DataFrame({
        "start": peak_t,
        "trough": times[troughs],
        "recovery": recovery,
        "depth": dd[troughs],
        "length_days": (end_t - peak_t).total_seconds().to_numpy() / DAY_SECONDS,
        "recovered": recovered,
    })


def worst_drawdowns(equity: pd.Series, top: int = 5) -> pd.DataFrame:
    """The ``top`` deepest drawdowns, deepest first (ties: the earlier first)."""
    if top < 1:
        raise ValueError(f"top must be at least 1, got {top!r}")
    periods = drawdown_periods(equity)
    return periods.sort_values(["depth", "start"], kind="stable").head(top).reset_index(drop=True)
