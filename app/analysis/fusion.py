"""Multi-timeframe fusion of per-timeframe ``Signal``s.

``fuse(signals: dict[tf, Signal], symbol, config) -> FusedSignal``

Each timeframe gets an effective weight e_tf = w_tf * confidence_tf
(w_tf from ``ScoringConfig.timeframe_weights``: 1m 0.5, 5m 0.75, 15m 1,
1h 1.5, 4h 1.5, 1d 1.25 by default), so an unsure timeframe counts less.
  fused score = 50 + sum e_tf (score_tf - 50) / sum e_tf   (50 if no weight)
  agreement   = |sum w_tf (score_tf - 50)| / sum w_tf |score_tf - 50|
                (1: all timeframes lean the same way; 0: they cancel;
                0 when every timeframe is exactly neutral)
  confidence  = (sum e_tf / sum w_tf) * (0.2 + 0.8 * agreement)
The reasons list each timeframe's contribution in points,
e_tf (score_tf - 50) / sum e_tf, largest first.  ``bar_time`` is the latest
bar open time among the timeframes.
"""
from __future__ import annotations

from app.analysis.config import ScoringConfig
from app.analysis.types import LABELS, FusedSignal, Reason, Signal


def _label(score: float, config: ScoringConfig) -> str:
    c1, c2, c3, c4 = config.label_cuts
    if score <= c1:
        return LABELS[0]
    if score < c2:
        return LABELS[1]
    if score <= c3:
        return LABELS[2]
    if score < c4:
        return LABELS[3]
    return LABELS[4]


def fuse(signals: dict[str, Signal], symbol: str, config: ScoringConfig | None = None) -> FusedSignal:
    config = config or ScoringConfig()
    if not signals:
        raise ValueError("fuse needs at least one timeframe signal")
    w = {tf: float(config.timeframe_weights.get(tf, 0.0)) for tf in signals}
    e = {tf: w[tf] * signals[tf].confidence for tf in signals}
    esum, wsum = sum(e.values()), sum(w.values())
    dev = {tf: s.score - 50.0 for tf, s in signals.items()}
    score = 50.0 + (sum(e[tf] * dev[tf] for tf in signals) / esum if esum > 0 else 0.0)
    gross = sum(w[tf] * abs(dev[tf]) for tf in signals)
    agreement = abs(sum(w[tf] * dev[tf] for tf in signals)) / gross if gross > 1e-12 else 0.0
    confidence = (esum / wsum if wsum > 0 else 0.0) * (0.2 + 0.8 * agreement)
    per_tf = {}
    reasons = []
    for tf, s in signals.items():
        contrib = e[tf] * dev[tf] / esum if esum > 0 else 0.0
        per_tf[tf] = {"score": round(s.score, 2), "label": s.label, "confidence": round(s.confidence, 3),
                      "weight": w[tf], "share": round(e[tf] / esum, 3) if esum > 0 else 0.0}
        reasons.append(Reason(text=f"{tf} {s.label} {s.score:.1f} (confidence {s.confidence:.2f}, "
                                   f"weight {w[tf]:g}): {contrib:+.1f}", points=contrib, component=f"tf:{tf}"))
    reasons.sort(key=lambda r: -abs(r.points))
    bar_time = max(s.bar_time for s in signals.values())
    return FusedSignal(symbol=symbol, bar_time=bar_time, score=score, confidence=confidence,
                       label=_label(score, config), agreement=agreement, timeframes=per_tf, reasons=reasons)
