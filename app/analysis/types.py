"""Value objects returned by the analysis layer (all JSON-ready via ``to_dict``).

``Prediction(expected_return_pct, p_up, model_version)``  optional model input.
``Reason(text, points, component)``  one line of a score's explanation.
``Signal(symbol, timeframe, bar_time, score, confidence, label, reasons, model_version)``
``FusedSignal(symbol, bar_time, score, confidence, label, agreement, timeframes, reasons)``
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

LABELS = ("strong sell", "sell", "neutral", "buy", "strong buy")


@dataclass(frozen=True)
class Prediction:
    """A model's view of the next bar: expected return in percent and P(up)."""
    expected_return_pct: float
    p_up: float
    model_version: str

    def __post_init__(self) -> None:
        if not math.isfinite(self.expected_return_pct):
            raise ValueError(f"expected_return_pct must be finite, got {self.expected_return_pct!r}")
        if not (0.0 <= self.p_up <= 1.0):
            raise ValueError(f"p_up must be within 0..1, got {self.p_up!r}")
        if not str(self.model_version):
            raise ValueError("model_version must be a non-empty string")


@dataclass(frozen=True)
class Reason:
    text: str
    points: float
    component: str

    def to_dict(self) -> dict:
        return {"text": self.text, "points": round(self.points, 2), "component": self.component}


def _iso(t: pd.Timestamp | None) -> str | None:
    return None if t is None else pd.Timestamp(t).isoformat()


@dataclass(frozen=True)
class Signal:
    symbol: str
    timeframe: str
    bar_time: pd.Timestamp
    score: float
    confidence: float
    label: str
    reasons: list[Reason] = field(default_factory=list)
    model_version: str | None = None

    def to_dict(self) -> dict:
        return {
            "symbol": self.symbol, "timeframe": self.timeframe, "bar_time": _iso(self.bar_time),
            "score": round(self.score, 2), "confidence": round(self.confidence, 3),
            "label": self.label, "reasons": [r.to_dict() for r in self.reasons],
            "model_version": self.model_version,
        }


@dataclass(frozen=True)
class FusedSignal:
    """Multi-timeframe score.  ``timeframes`` maps tf -> its score, label,
    confidence, weight and effective weight share; ``agreement`` is 1 when all
    timeframes lean the same way and 0 when they cancel out."""
    symbol: str
    bar_time: pd.Timestamp | None
    score: float
    confidence: float
    label: str
    agreement: float
    timeframes: dict[str, dict] = field(default_factory=dict)
    reasons: list[Reason] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "symbol": self.symbol, "bar_time": _iso(self.bar_time),
            "score": round(self.score, 2), "confidence": round(self.confidence, 3),
            "label": self.label, "agreement": round(self.agreement, 3),
            "timeframes": {k: dict(v) for k, v in self.timeframes.items()},
            "reasons": [r.to_dict() for r in self.reasons],
        }
