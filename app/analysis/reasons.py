"""Human-readable reasons for the latest bar's score.

``build_reasons(points, readings, events, timeframe, config, prediction)``
returns ``Reason`` objects ordered by the size of their contribution, e.g.
``"RSI(14)=27.9 oversold on 1h: +7.7"``.  Components that contribute less
than 0.05 points are left out.
"""
from __future__ import annotations

import math

import numpy as np

from app.analysis.config import ScoringConfig
from app.analysis.types import Prediction, Reason

EVENT_TEXT = {
    "engulfing": ("Bullish engulfing", "Bearish engulfing"),
    "hammer": ("Hammer", "Hammer"),
    "shooting_star": ("Shooting star", "Shooting star"),
    "doji": ("Doji after a fall", "Doji after a rise"),
    "morning_star": ("Morning star", "Morning star"),
    "evening_star": ("Evening star", "Evening star"),
    "macd_cross": ("MACD bullish cross", "MACD bearish cross"),
    "golden_cross": ("Golden cross (SMA50 over SMA200)", "Golden cross"),
    "death_cross": ("Death cross", "Death cross (SMA50 under SMA200)"),
    "bb_breakout": ("Close above upper Bollinger band", "Close below lower Bollinger band"),
    "bb_squeeze": ("Bollinger squeeze, price above middle", "Bollinger squeeze, price below middle"),
    "rsi_divergence": ("Bullish RSI divergence", "Bearish RSI divergence"),
    "sr_break": ("Break above resistance", "Break below support"),
    "volume_spike": ("Volume spike on an up bar", "Volume spike on a down bar"),
}


def _f(x: float, fmt: str = ".1f") -> str:
    return "n/a" if x is None or not math.isfinite(x) else format(x, fmt)


def _component_text(name: str, r: dict[str, float], tf: str, config: ScoringConfig, pts: float) -> str:
    if name == "rsi":
        zone = "oversold" if r["rsi"] < config.rsi_oversold else "overbought"
        return f"RSI(14)={_f(r['rsi'])} {zone} on {tf}"
    if name == "stoch":
        zone = "oversold" if r["stoch_k"] < config.stoch_oversold else "overbought"
        return f"Stochastic %K={_f(r['stoch_k'])} {zone} on {tf}"
    if name == "trend":
        def rel(x, a, b):
            return f"{a} {'>' if x > 0 else '<'} {b}" if math.isfinite(x) else f"{b} n/a"
        return (f"Trend {'up' if pts > 0 else 'down'} on {tf}: "
                + ", ".join([rel(r["close_ema20"], "close", "EMA20"), rel(r["ema20_ema50"], "EMA20", "EMA50"),
                             rel(r["ema50_ema200"], "EMA50", "EMA200")]))
    if name == "dmi":
        side = "+DI > -DI" if r["di_spread"] > 0 else "-DI > +DI"
        return f"ADX(14)={_f(r['adx'])}, {side} on {tf}"
    if name == "macd":
        return f"MACD histogram {_f(r['macd_hist_atr'], '+.2f')} ATR ({'bullish' if pts > 0 else 'bearish'}) on {tf}"
    if name == "vwap":
        return f"Close {_f(r['vwap_atr'], '+.2f')} ATR from session VWAP on {tf}"
    if name == "obv":
        return f"OBV flow {_f(100 * r['obv_flow'], '+.0f')}% of 20-bar volume on {tf}"
    return f"{name} on {tf}"


def _event_text(name: str, events, config: ScoringConfig, tf: str, pts: float) -> str:
    d, _ = events[name]
    recent = d[-config.event_lookback:]
    hits = np.flatnonzero(recent)
    age = (len(recent) - 1 - hits[-1]) if len(hits) else 0
    bull, bear = EVENT_TEXT.get(name, (name, name))
    when = "this bar" if age == 0 else f"{age} bar{'s' if age > 1 else ''} ago"
    return f"{bull if pts > 0 else bear} on {tf} ({when})"


def build_reasons(points: dict[str, float], r: dict[str, float], events, timeframe: str,
                  config: ScoringConfig, prediction: Prediction | None) -> list[Reason]:
    out: list[Reason] = []
    for name, pts in points.items():
        if abs(pts) < 0.05:
            continue
        if name.startswith("event:"):
            ev = name.split(":", 1)[1]
            text, comp = _event_text(ev, events, config, timeframe, pts), name
        elif name == "model" and prediction is not None:
            text = (f"Model {prediction.expected_return_pct:+.2f}% next bar, p_up {prediction.p_up:.2f}, "
                    f"{prediction.model_version} on {timeframe}")
            comp = "model"
        else:
            text, comp = _component_text(name, r, timeframe, config, pts), name
        out.append(Reason(text=f"{text}: {pts:+.1f}", points=float(pts), component=comp))
    out.sort(key=lambda x: -abs(x.points))
    return out
