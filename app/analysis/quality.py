"""Signal quality: what happened after each label, against the base rate.

``signal_quality(candles, scores, horizons=(1, 4, 12), min_history=200) -> DataFrame``

``scores`` is ``score_series(candles, ...)`` (or any frame with a ``label``
column on the same index).  Because every score at bar t is computed from
bars <= t with fixed weights (nothing is fitted), every evaluated bar is out
of sample; the first ``min_history`` bars (indicator warm-up, EMA200) are
skipped.  For each horizon h, the forward return at bar t is
close[t+h] / close[t] - 1 in percent: the signal is known at the close of
bar t and the position is marked at the close h bars later (the last h bars
have no forward return and are dropped).  Returns overlap for h > 1, so the
counts are not independent observations.

One row per (horizon, label) plus a ``label == "all"`` row per horizon with
the unconditional base rate.  Columns:
``horizon, label, count, mean_return_pct, up_rate`` (share of forward
returns > 0), ``hit_rate`` (share moving the labelled way: > 0 for buy and
strong buy, < 0 for sell and strong sell; NaN for neutral and all),
``base_mean_return_pct``, ``base_up_rate``, ``base_hit_rate`` (the hit rate a
label would score by chance: the base up rate for bullish labels, the base
down rate for bearish ones) and ``edge_pct`` = mean - base mean.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from app.analysis.indicators import validate_candles
from app.analysis.types import LABELS

BULLISH = ("buy", "strong buy")
BEARISH = ("sell", "strong sell")


def signal_quality(candles: pd.DataFrame, scores: pd.DataFrame, horizons=(1, 4, 12),
                   min_history: int = 200) -> pd.DataFrame:
    validate_candles(candles)
    if not isinstance(scores, pd.DataFrame) or "label" not in scores.columns:
        raise ValueError("scores must be a DataFrame with a 'label' column (see score_series)")
    if not scores.index.equals(candles.index):
        raise ValueError("scores must be indexed exactly like candles (one score per bar)")
    hs = [int(h) for h in horizons]
    if not hs or any(h < 1 for h in hs):
        raise ValueError(f"horizons must be positive bar counts, got {tuple(horizons)!r}")
    if min_history < 0:
        raise ValueError("min_history must be >= 0")
    close = candles["close"].to_numpy(dtype=np.float64)
    labels = scores["label"].to_numpy(dtype=object)
    n = len(close)
    rows = []
    for h in hs:
        fwd = np.full(n, np.nan)
        if n > h:
            fwd[:-h] = (close[h:] / close[:-h] - 1.0) * 100.0
        keep = np.isfinite(fwd) & (np.arange(n) >= min_history)
        base = fwd[keep]
        base_mean = float(base.mean()) if len(base) else np.nan
        base_up = float((base > 0).mean()) if len(base) else np.nan
        base_down = float((base < 0).mean()) if len(base) else np.nan
        for label in (*LABELS, "all"):
            sel = base if label == "all" else fwd[keep & (labels == label)]
            cnt = len(sel)
            mean = float(sel.mean()) if cnt else np.nan
            up = float((sel > 0).mean()) if cnt else np.nan
            if label in BULLISH:
                hit, base_hit = up, base_up
            elif label in BEARISH:
                hit, base_hit = (float((sel < 0).mean()) if cnt else np.nan), base_down
            else:
                hit, base_hit = np.nan, np.nan
            rows.append({"horizon": h, "label": label, "count": cnt, "mean_return_pct": mean,
                         "up_rate": up, "hit_rate": hit, "base_mean_return_pct": base_mean,
                         "base_up_rate": base_up, "base_hit_rate": base_hit,
                         "edge_pct": mean - base_mean if cnt else np.nan})
    return pd.DataFrame(rows)
