"""The rule kinds: which condition function, which parameters (with their bounds), what inputs.

``KINDS[name] = Kind(...)``; ``Param`` says the type and bounds of one parameter, so the form, the
validation (``app.alerts.validate``) and the evaluation read one table.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from app.alerts import events, indicators, lstm, price, score, volume
from app.analysis.patterns import EVENTS
from app.analysis.types import LABELS


@dataclass(frozen=True)
class Param:
    type: str  # "number" | "int" | "choice"
    low: float | None = None
    high: float | None = None
    choices: tuple = ()
    default: object = None
    required: bool = True


@dataclass(frozen=True)
class Kind:
    label: str
    func: Callable
    params: dict[str, Param]
    needs: str = "candles"  # candles | scores | p_up


UP_DOWN = Param("choice", choices=("up", "down"), default="up")
LEVEL = Param("number", low=0.0, high=1e12)
SOURCES = ("fused", "1m", "5m", "15m", "1h", "4h", "1d")

KINDS: dict[str, Kind] = {
    "price_above": Kind("Close above", price.price_above, {"level": LEVEL}),
    "price_below": Kind("Close below", price.price_below, {"level": LEVEL}),
    "price_cross_up": Kind("Close crossing up", price.price_cross_up, {"level": LEVEL}),
    "price_cross_down": Kind("Close crossing down", price.price_cross_down, {"level": LEVEL}),
    "percent_move": Kind("Percent move over a window", price.percent_move,
                         {"pct": Param("number", low=-100.0, high=10000.0),
                          "window": Param("int", low=1, high=1000, default=24)}),
    "rsi_above": Kind("RSI(14) above", indicators.rsi_above, {"level": Param("number", low=0, high=100, default=70)}),
    "rsi_below": Kind("RSI(14) below", indicators.rsi_below, {"level": Param("number", low=0, high=100, default=30)}),
    "macd_cross": Kind("MACD crossing its signal", indicators.macd_cross, {"direction": UP_DOWN}),
    "ma_cross": Kind("Close crossing a moving average", indicators.ma_cross,
                     {"ma": Param("choice", choices=("ema", "sma"), default="ema"),
                      "length": Param("choice", choices=(20, 50, 200), default=50), "direction": UP_DOWN}),
    "bb_breakout": Kind("Bollinger breakout", indicators.bb_breakout, {"direction": UP_DOWN}),
    "pattern": Kind("Pattern or technical event", events.pattern,
                    {"event": Param("choice", choices=tuple(EVENTS)),
                     "direction": Param("choice", choices=tuple(events.DIRECTIONS), default="any")}),
    "volume_spike": Kind("Volume spike (z-score)", volume.volume_spike,
                         {"z": Param("number", low=0.5, high=50, default=3.0),
                          "window": Param("int", low=5, high=500, default=20)}),
    "score_cross": Kind("Signal score crossing", score.score_cross,
                        {"source": Param("choice", choices=SOURCES, default="fused"),
                         "level": Param("number", low=-100, high=100), "direction": UP_DOWN}, needs="scores"),
    "label_change": Kind("Signal label changing", score.label_change,
                         {"source": Param("choice", choices=SOURCES, default="fused"),
                          "to": Param("choice", choices=tuple(LABELS), required=False)}, needs="scores"),
    "lstm_cross": Kind("LSTM p(up) crossing", lstm.lstm_cross,
                       {"level": Param("number", low=0, high=1, default=0.6), "direction": UP_DOWN}, needs="p_up"),
}


def describe(kind: str, params: dict) -> str:
    """One line for lists and messages, e.g. ``Close crossing up 65000``."""
    k = KINDS[kind]
    parts = [f"{v}" if name in ("level",) else f"{name}={v}" for name, v in params.items() if v is not None]
    return f"{k.label} {' '.join(parts)}".strip()
