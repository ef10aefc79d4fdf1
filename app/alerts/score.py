"""The signal score (a timeframe's or the fused one) crossing a threshold, or its label changing.

Scores are the stored ``signals`` rows for each bar (``Bars.scores``): the value computed at the
close of that bar.
"""
from __future__ import annotations

import numpy as np

from app.alerts.bars import Bars
from app.alerts.series import cross_down, cross_up


def _score(bars: Bars, source: str) -> np.ndarray:
    s = bars.scores.get(source)
    return np.full(len(bars), np.nan) if s is None else np.asarray(s, dtype="float64")


def score_cross(bars: Bars, params: dict):
    s = _score(bars, params["source"])
    mask = cross_up(s, params["level"]) if params["direction"] == "up" else cross_down(s, params["level"])
    return mask, s


def label_change(bars: Bars, params: dict):
    """The label differs from the previous bar's (both known); ``to`` restricts it to one new label."""
    labels = bars.labels.get(params["source"])
    n = len(bars)
    mask = np.zeros(n, dtype=bool)
    if labels is not None and n > 1:
        cur, before = labels[1:], labels[:-1]
        known = np.array([a is not None and b is not None for a, b in zip(cur, before)], dtype=bool)
        changed = known & (cur != before)
        if params.get("to"):
            changed &= cur == params["to"]
        mask[1:] = changed
    return mask, _score(bars, params["source"])
