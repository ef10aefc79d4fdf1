"""How good a p(up) is: classification metrics, calibration and confidence intervals.

* ``classification_metrics(y, p)``: accuracy (p > 0.5 means "up"), log loss,
  Brier score, ROC AUC (scikit-learn), expected calibration error, sample
  count and up share. AUC is ``None`` when the labels hold one class only.
* ``reliability_curve(y, p, bins)``: per equal-width probability bin the
  number of predictions, their mean p and the observed share of up bars —
  what a reliability diagram draws.
* ``expected_calibration_error(y, p, bins)``: ``sum_b n_b / N * |up share_b -
  mean p_b|`` over the bins of ``reliability_curve`` (scikit-learn has the
  curve but not this number).
* ``paired_block_ci(y, p_a, p_b, metric)``: a moving-block bootstrap interval
  for ``metric(a) - metric(b)`` on the same time-ordered samples: contiguous
  blocks are resampled so serial dependence inside a block is kept, and both
  models are scored on the same resample.
"""
from __future__ import annotations

import numpy as np
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from app.analysis.quality import block_bootstrap_indices, percentile_interval

EPS = 1e-7
BINS = 10


def _check(y, p) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    if y.ndim != 1 or p.ndim != 1 or len(y) == 0 or len(y) != len(p):
        raise ValueError("metrics need the same, non-zero number of labels and predictions (1-d arrays)")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("labels must be 0 or 1")
    if not (np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all()):
        raise ValueError("predictions must be probabilities in [0, 1]")
    return y, p


def reliability_curve(y, p, bins: int = BINS) -> list[dict]:
    """One row per non-empty bin ``[lo, hi)`` (the last bin includes 1.0)."""
    y, p = _check(y, p)
    if not isinstance(bins, int) or bins < 1:
        raise ValueError("bins must be a positive integer")
    which = np.minimum((p * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        sel = which == b
        if sel.any():
            rows.append({"lo": b / bins, "hi": (b + 1) / bins, "n": int(sel.sum()),
                         "mean_p": float(p[sel].mean()), "up_share": float(y[sel].mean())})
    return rows


def expected_calibration_error(y, p, bins: int = BINS) -> float:
    curve = reliability_curve(y, p, bins)
    n = sum(r["n"] for r in curve)
    return float(sum(r["n"] / n * abs(r["up_share"] - r["mean_p"]) for r in curve))


def classification_metrics(y, p) -> dict:
    y, p = _check(y, p)
    clipped = np.clip(p, EPS, 1 - EPS)
    two_classes = 0 < y.sum() < len(y)
    return {"n": int(len(y)),
            "accuracy": float(np.mean((p > 0.5) == (y > 0.5))),
            "log_loss": float(log_loss(y, clipped, labels=[0.0, 1.0])),
            "brier": float(brier_score_loss(y, p, pos_label=1.0)),
            "auc": float(roc_auc_score(y, p)) if two_classes else None,
            "ece": expected_calibration_error(y, p),
            "up_rate": float(np.mean(y))}


def _accuracy(y, p):
    return np.mean((p > 0.5) == (y > 0.5), axis=-1)


def _log_loss(y, p):
    p = np.clip(p, EPS, 1 - EPS)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p), axis=-1)


def _brier(y, p):
    return np.mean((p - y) ** 2, axis=-1)


PAIRED = {"accuracy": _accuracy, "log_loss": _log_loss, "brier": _brier}


def paired_block_ci(y, p_a, p_b, metric: str = "accuracy", *, block: int, n_boot: int = 2000,
                    level: float = 0.95, seed: int = 0) -> dict:
    """``metric(p_a) - metric(p_b)``: the point estimate and a percentile interval
    from ``n_boot`` moving-block resamples of blocks of ``block`` consecutive samples."""
    if metric not in PAIRED:
        raise ValueError(f"metric must be one of {', '.join(PAIRED)}, got {metric!r}")
    y, p_a = _check(y, p_a)
    _, p_b = _check(y, p_b)
    fn = PAIRED[metric]
    idx = block_bootstrap_indices(len(y), block, n_boot, seed)         # (n_boot, n)
    diffs = fn(y[idx], p_a[idx]) - fn(y[idx], p_b[idx])
    low, high = percentile_interval(diffs, level)
    return {"metric": metric, "diff": float(fn(y, p_a) - fn(y, p_b)), "low": low, "high": high,
            "level": level, "block": int(block), "n_boot": int(n_boot),
            "method": f"moving-block bootstrap, blocks of {block} consecutive samples, {n_boot} resamples"}
