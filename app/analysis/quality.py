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

``signal_quality_ci(candles, scores, ..., n_boot=2000, block=None, level=0.95,
seed=0)`` is the same table with percentile confidence intervals from a
moving-block bootstrap over the evaluated bars (``block_bootstrap_indices``):
contiguous blocks of ``block`` bars are resampled (default: the larger of the
horizon and the cube root of the number of bars, so overlapping forward
returns and volatility clustering stay inside a block) and every statistic is
recomputed on each resample.  Added columns: ``mean_return_ci_low/high``,
``hit_rate_ci_low/high``, ``edge_ci_low/high`` and ``hit_edge`` (hit rate -
base hit rate) with ``hit_edge_ci_low/high``, plus ``ci_block`` and
``ci_level``.  An interval that contains 0 means the label's edge is not
distinguishable from chance on this history.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from app.analysis.indicators import validate_candles
from app.analysis.types import LABELS

BEARISH, BULLISH = LABELS[:2], LABELS[3:]  # the labels' one definition is app.analysis.types.LABELS


def _forward(close: np.ndarray, h: int, min_history: int) -> tuple[np.ndarray, np.ndarray]:
    """Forward h-bar return in percent at every bar (NaN at the last h) and the bars evaluated."""
    n = len(close)
    fwd = np.full(n, np.nan)
    if n > h:
        fwd[:-h] = (close[h:] / close[:-h] - 1.0) * 100.0
    return fwd, np.isfinite(fwd) & (np.arange(n) >= min_history)


def _check_inputs(candles, scores, horizons, min_history) -> list[int]:
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
    return hs


def signal_quality(candles: pd.DataFrame, scores: pd.DataFrame, horizons=(1, 4, 12),
                   min_history: int = 200) -> pd.DataFrame:
    hs = _check_inputs(candles, scores, horizons, min_history)
    close = candles["close"].to_numpy(dtype=np.float64)
    labels = scores["label"].to_numpy(dtype=object)
    rows = []
    for h in hs:
        fwd, keep = _forward(close, h, min_history)
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


def block_bootstrap_indices(n: int, block: int, n_boot: int, seed: int = 0) -> np.ndarray:
    """``(n_boot, n)`` positions of moving-block resamples of ``0..n-1``.

    Each resample concatenates ``ceil(n / block)`` blocks of ``block``
    consecutive positions whose starts are drawn uniformly from ``0..n-block``
    (Kunsch's moving-block bootstrap), cut to ``n``; seeded, so repeatable."""
    for name, value, low in (("n", n, 1), ("block", block, 1), ("n_boot", n_boot, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    if block > n:
        raise ValueError(f"block ({block}) must not be longer than the series ({n})")
    rng = np.random.default_rng(seed)
    k = -(-n // block)
    starts = rng.integers(0, n - block + 1, size=(n_boot, k))
    return (starts[:, :, None] + np.arange(block)).reshape(n_boot, k * block)[:, :n]


def percentile_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The central ``level`` percentile interval of bootstrap replicates (NaN replicates ignored)."""
    if not isinstance(level, float) or not 0.5 <= level < 1.0:
        raise ValueError(f"level must be a float in [0.5, 1), got {level!r}")
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if not len(v):
        return float("nan"), float("nan")
    lo, hi = np.quantile(v, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def _masked_mean(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    count = mask.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, (values * mask).sum(axis=1) / count, np.nan)


def signal_quality_ci(candles: pd.DataFrame, scores: pd.DataFrame, horizons=(1, 4, 12),
                      min_history: int = 200, *, n_boot: int = 2000, block: int | None = None,
                      level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """``signal_quality`` with moving-block bootstrap intervals; see the module docstring."""
    table = signal_quality(candles, scores, horizons, min_history)      # validates the inputs
    hs = [int(h) for h in horizons]
    if block is not None and (isinstance(block, bool) or not isinstance(block, int) or block < 1):
        raise ValueError(f"block must be a positive integer or None, got {block!r}")
    close = candles["close"].to_numpy(dtype=np.float64)
    labels = scores["label"].to_numpy(dtype=object)
    extra = {c: np.full(len(table), np.nan) for c in (
        "mean_return_ci_low", "mean_return_ci_high", "hit_rate_ci_low", "hit_rate_ci_high",
        "edge_ci_low", "edge_ci_high", "hit_edge", "hit_edge_ci_low", "hit_edge_ci_high", "ci_block")}
    for h in hs:
        fwd, keep = _forward(close, h, min_history)
        f, lab = fwd[keep], labels[keep]
        rows = np.flatnonzero(table["horizon"].to_numpy() == h)
        if len(f) < 2:
            continue
        b = min(block or max(h, int(round(len(f) ** (1 / 3)))), len(f))
        idx = block_bootstrap_indices(len(f), b, n_boot, seed)
        fs, ls = f[idx], lab[idx]
        everything = np.ones_like(fs, dtype=bool)
        base_mean = fs.mean(axis=1)
        up_share, down_share = (fs > 0).mean(axis=1), (fs < 0).mean(axis=1)
        for r in rows:
            label = table["label"].iat[r]
            mask = everything if label == "all" else (ls == label)
            mean = _masked_mean(fs, mask)
            stats = {"mean_return": mean, "edge": mean - base_mean}
            if label in BULLISH or label in BEARISH:
                bull = label in BULLISH
                hit = _masked_mean((fs > 0) if bull else (fs < 0), mask)
                stats["hit_rate"] = hit
                stats["hit_edge"] = hit - (up_share if bull else down_share)
                extra["hit_edge"][r] = table["hit_rate"].iat[r] - table["base_hit_rate"].iat[r]
            if table["count"].iat[r] == 0:
                continue
            for name, reps in stats.items():
                lo, hi = percentile_interval(reps, level)
                extra[f"{name}_ci_low"][r], extra[f"{name}_ci_high"][r] = lo, hi
            extra["ci_block"][r] = b
    out = table.assign(**extra)
    out["ci_level"] = level
    return out
