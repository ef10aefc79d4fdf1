"""``ScoringConfig``: every weight and threshold of the scoring model, in one place.

A frozen dataclass; ``to_dict()`` gives a JSON-ready dict for display and
``ScoringConfig.from_dict(d)`` rebuilds one (unknown keys are refused).
Weights are the *maximum points* a component can add to or take from the
neutral 50 (see ``app.analysis.scoring`` for each component's formula).
All weights must be >= 0: that is what keeps the score monotone in the
evidence.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from app.analysis.indicators import WARMUP_BARS
from app.analysis.patterns import EVENTS
from app.marketdata import TIMEFRAMES


def _component_weights() -> dict[str, float]:
    return {"trend": 10.0, "dmi": 6.0, "macd": 6.0, "rsi": 14.0, "stoch": 4.0,
            "vwap": 4.0, "obv": 4.0, "model": 15.0}


def _event_weights() -> dict[str, float]:
    return {"engulfing": 5.0, "hammer": 4.0, "shooting_star": 4.0, "doji": 2.0,
            "morning_star": 6.0, "evening_star": 6.0, "macd_cross": 5.0,
            "golden_cross": 8.0, "death_cross": 8.0, "bb_breakout": 4.0, "bb_squeeze": 2.0,
            "rsi_divergence": 6.0, "sr_break": 6.0, "volume_spike": 3.0}


def _timeframe_weights() -> dict[str, float]:
    return {"1m": 0.5, "5m": 0.75, "15m": 1.0, "1h": 1.5, "4h": 1.5, "1d": 1.25}


@dataclass(frozen=True)
class ScoringConfig:
    component_weights: dict[str, float] = field(default_factory=_component_weights)
    event_weights: dict[str, float] = field(default_factory=_event_weights)
    timeframe_weights: dict[str, float] = field(default_factory=_timeframe_weights)
    # events count for this many bars, fading by event_decay per bar of age
    event_lookback: int = 5
    event_decay: float = 0.7
    # oscillator zones
    rsi_oversold: float = 30.0
    rsi_overbought: float = 70.0
    stoch_oversold: float = 20.0
    stoch_overbought: float = 80.0
    adx_trending: float = 25.0
    # model: expected return (percent) that counts as a full-strength reading
    model_return_scale_pct: float = 1.0
    # label cut points on the 0..100 score: <=20 strong sell, <40 sell,
    # 40..60 neutral, >60 buy, >=80 strong buy
    label_cuts: tuple[float, float, float, float] = (20.0, 40.0, 60.0, 80.0)
    # confidence reaches its data factor of 1 after this many bars of history
    full_history_bars: int = 250
    # analyze_latest keeps only this many most recent bars per timeframe
    history_bars: int = WARMUP_BARS + 300

    def __post_init__(self) -> None:
        unknown = set(self.component_weights) - set(_component_weights())
        if unknown:
            raise ValueError(f"unknown score components {sorted(unknown)}; expected {sorted(_component_weights())}")
        unknown = set(self.event_weights) - set(EVENTS)
        if unknown:
            raise ValueError(f"unknown events {sorted(unknown)}; expected {sorted(EVENTS)}")
        unknown = set(self.timeframe_weights) - set(TIMEFRAMES)
        if unknown:
            raise ValueError(f"unknown timeframes {sorted(unknown)}; expected {list(TIMEFRAMES)}")
        for group in (self.component_weights, self.event_weights, self.timeframe_weights):
            for k, w in group.items():
                if not (isinstance(w, (int, float)) and w >= 0):
                    raise ValueError(f"weight {k!r} must be a number >= 0, got {w!r}")
        cuts = tuple(self.label_cuts)
        if len(cuts) != 4 or list(cuts) != sorted(cuts) or not (0 <= cuts[0] and cuts[-1] <= 100):
            raise ValueError(f"label_cuts must be 4 increasing numbers within 0..100, got {cuts!r}")
        if not (1 <= self.event_lookback <= 50) or not (0 < self.event_decay <= 1):
            raise ValueError("event_lookback must be 1..50 and event_decay within (0, 1]")
        if not (0 < self.rsi_oversold < self.rsi_overbought < 100):
            raise ValueError("need 0 < rsi_oversold < rsi_overbought < 100")
        if not (0 < self.stoch_oversold < self.stoch_overbought < 100):
            raise ValueError("need 0 < stoch_oversold < stoch_overbought < 100")
        if self.model_return_scale_pct <= 0 or self.adx_trending <= 0:
            raise ValueError("model_return_scale_pct and adx_trending must be > 0")
        if self.full_history_bars < 1 or self.history_bars < 300:
            raise ValueError("full_history_bars must be >= 1 and history_bars >= 300")

    def component_weight(self, name: str) -> float:
        return float(self.component_weights.get(name, 0.0))

    def event_weight(self, name: str) -> float:
        return float(self.event_weights.get(name, 0.0))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["label_cuts"] = list(self.label_cuts)
        return d

    @classmethod
    def from_dict(cls, data: dict) -> "ScoringConfig":
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown ScoringConfig keys {sorted(unknown)}")
        d = dict(data)
        if "label_cuts" in d:
            d["label_cuts"] = tuple(d["label_cuts"])
        return cls(**d)
