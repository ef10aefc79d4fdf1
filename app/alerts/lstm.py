"""The champion LSTM's p(up) crossing a threshold (``Bars.p_up``: the stored prediction made at the
close of each bar; NaN where the symbol and timeframe have no champion)."""
from __future__ import annotations

import numpy as np

from app.alerts.bars import Bars
from app.alerts.series import cross_down, cross_up


def lstm_cross(bars: Bars, params: dict):
    p = np.full(len(bars), np.nan) if bars.p_up is None else np.asarray(bars.p_up, dtype="float64")
    mask = cross_up(p, params["level"]) if params["direction"] == "up" else cross_down(p, params["level"])
    return mask, p
