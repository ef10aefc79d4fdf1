"""Price conditions on closed bars: above / below / crossing a level, percent move over a window.

``condition(bars, params) -> (mask, value)`` over every bar; ``last_many(bars, kind, levels)`` is
the evaluation hot path: many rules of one kind on the latest bar in one numpy expression.
"""
from __future__ import annotations

import numpy as np

from app.alerts.bars import Bars
from app.alerts.series import above, below, cross_down, cross_up


def price_above(bars: Bars, params: dict):
    return above(bars.close, params["level"]), bars.close


def price_below(bars: Bars, params: dict):
    return below(bars.close, params["level"]), bars.close


def price_cross_up(bars: Bars, params: dict):
    return cross_up(bars.close, params["level"]), bars.close


def price_cross_down(bars: Bars, params: dict):
    return cross_down(bars.close, params["level"]), bars.close


def percent_move(bars: Bars, params: dict):
    """Change of close over the last ``window`` bars, in percent; fires when it reaches ``pct``
    (a rise for pct > 0, a fall for pct < 0)."""
    w, pct = params["window"], params["pct"]
    c = bars.close
    change = np.full(len(c), np.nan)
    if len(c) > w:
        change[w:] = (c[w:] / c[:-w] - 1.0) * 100.0
    with np.errstate(invalid="ignore"):
        mask = change >= pct if pct > 0 else change <= pct
    return mask, change


def last_many(bars: Bars, kind: str, levels: np.ndarray, at: int = -1) -> np.ndarray:
    """Whether each level's ``kind`` rule holds on bar ``at`` (default the latest; the same answer as
    ``condition(...)[at]``), for many levels in one numpy expression."""
    c = bars.close
    n = len(c)
    i = n + at if at < 0 else at
    if not 0 <= i < n:
        return np.zeros(len(levels), dtype=bool)
    now = c[i]
    before = c[i - 1] if i > 0 else np.nan
    with np.errstate(invalid="ignore"):
        if kind == "price_above":
            return now > levels
        if kind == "price_below":
            return now < levels
        if kind == "price_cross_up":
            return (before <= levels) & (now > levels)
        if kind == "price_cross_down":
            return (before >= levels) & (now < levels)
    raise ValueError(f"no batch form for {kind!r}")


BATCH_KINDS = frozenset({"price_above", "price_below", "price_cross_up", "price_cross_down"})
