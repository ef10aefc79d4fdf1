"""A detected candlestick pattern or technical event (``app.analysis.patterns.EVENTS``) on the bar."""
from __future__ import annotations

import numpy as np

from app.alerts.bars import Bars

DIRECTIONS = {"any": 0, "bullish": 1, "bearish": -1}


def pattern(bars: Bars, params: dict):
    """Fires on a bar where ``event`` was detected (in the ``direction`` asked for)."""
    d = bars.events.get(params["event"])
    if d is None:
        d = np.zeros(len(bars), dtype="float64")
    d = np.asarray(d, dtype="float64")
    want = DIRECTIONS[params.get("direction", "any")]
    mask = (d != 0) if want == 0 else (d == want)
    return mask, d
