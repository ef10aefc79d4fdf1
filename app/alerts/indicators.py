"""Indicator conditions (the indicator columns of ``app.analysis.indicators``, causal at bar t)."""
from __future__ import annotations


from app.alerts.bars import Bars
from app.alerts.series import above, below, cross_down, cross_up


def rsi_above(bars: Bars, params: dict):
    rsi = bars.indicators["rsi_14"]
    return above(rsi, params["level"]), rsi


def rsi_below(bars: Bars, params: dict):
    rsi = bars.indicators["rsi_14"]
    return below(rsi, params["level"]), rsi


def macd_cross(bars: Bars, params: dict):
    """The MACD line crossing its signal line (up or down)."""
    m, s = bars.indicators["macd"], bars.indicators["macd_signal"]
    mask = cross_up(m, s) if params["direction"] == "up" else cross_down(m, s)
    return mask, m - s


def ma_cross(bars: Bars, params: dict):
    """Close crossing its EMA or SMA of ``length`` (20, 50 or 200)."""
    ma = bars.indicators[f"{params['ma']}_{params['length']}"]
    mask = cross_up(bars.close, ma) if params["direction"] == "up" else cross_down(bars.close, ma)
    return mask, ma


def bb_breakout(bars: Bars, params: dict):
    """Close leaving the Bollinger band (20, 2): above the upper band (up) or below the lower (down),
    having been inside on the bar before."""
    if params["direction"] == "up":
        band = bars.indicators["bb_upper"]
        return cross_up(bars.close, band), band
    band = bars.indicators["bb_lower"]
    return cross_down(bars.close, band), band


