"""Live scoring of stored predictions, per model version, and the champion / challenger test.

A prediction made at the close of bar t says p(close of the next bar > close of t).
It is *scored* once that next bar has closed:

* ``outcomes(close, bar_times, last_closed)``: 1.0 / 0.0 per prediction bar when
  the next stored bar (the next one present, as in training labels) has opened
  at or before ``last_closed`` (the open time of the newest closed bar), NaN
  while it is unknown. Nothing later than ``last_closed`` is read.
* ``live_metrics(y, p)``: accuracy, log loss, Brier score, expected calibration
  error and the reliability curve (``ml.metrics``), and the log loss of the
  *live base rate* on the same bars: before scored bar i it predicts
  ``(1 + ups among the i earlier scored bars) / (2 + i)`` (Laplace's rule,
  known before bar i, so it never looks ahead).
* ``rolling(frame, window)``: the last ``window`` scored bars of a version,
  with the live base rate of each (from all its earlier scored bars).
* ``diebold_mariano(loss_a, loss_b)``: the Diebold–Mariano test of equal
  expected loss on the same bars: ``d = loss_a - loss_b``, statistic
  ``mean(d) / sqrt(S / n)`` with ``S`` the Newey–West (Bartlett kernel)
  long-run variance of ``d`` with ``lag = floor(n ** (1/3))``, two-sided
  p-value from the standard normal. Negative statistic: ``a`` has the lower
  loss.
* ``compare(champion, challenger, window)``: both versions' log loss on the
  scored bars they *both* predicted, the last ``window`` of them, and the test.
* ``review(champion, challenger, window, min_samples)``: the flag — a champion
  whose mean live log loss over its last ``window`` scored bars is above the
  live base rate's on the same bars, or above the challenger's on the common
  bars, is *flagged* (the Admin page says so; promotion stays an admin's
  decision). Fewer than ``min_samples`` scored bars: not judged yet.

Frames are indexed by bar time with columns ``y`` (0/1) and ``p_up``; rows
without an outcome or without a probability (withheld) are not scored.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ml.metrics import BINS, classification_metrics, reliability_curve

EPS = 1e-7
MIN_SAMPLES = 20
TEST = ("Diebold-Mariano test on per-bar log loss differences (Newey-West variance, lag floor(n^(1/3)), "
        "two-sided normal p-value)")


def outcomes(close: pd.Series, bar_times, last_closed) -> np.ndarray:
    """1.0 if the next stored bar after t closed higher than t, 0.0 if not, NaN while unknown."""
    if not isinstance(close.index, pd.DatetimeIndex) or not close.index.is_monotonic_increasing:
        raise ValueError("close must be a Series indexed by increasing bar time")
    last_closed = pd.Timestamp(last_closed)
    if last_closed.tzinfo is None:
        raise ValueError("last_closed must be timezone-aware (UTC)")
    known = close.loc[close.index <= last_closed]
    idx = known.index
    values = known.to_numpy(dtype=np.float64)
    out = np.full(len(bar_times), np.nan)
    for k, t in enumerate(pd.DatetimeIndex(bar_times)):
        pos = idx.searchsorted(t)
        if pos < len(idx) - 1 and idx[pos] == t:
            out[k] = 1.0 if values[pos + 1] > values[pos] else 0.0
    return out


def log_losses(y, p) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    p = np.clip(np.asarray(p, dtype=np.float64), EPS, 1 - EPS)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def base_rate_p(y) -> np.ndarray:
    """Before scored bar i: (1 + ups among the earlier scored bars) / (2 + i)."""
    y = np.asarray(y, dtype=np.float64)
    ups_before = np.concatenate([[0.0], np.cumsum(y)[:-1]]) if len(y) else np.empty(0)
    return (1.0 + ups_before) / (2.0 + np.arange(len(y)))


def scored(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows with an outcome and a probability, in bar order."""
    if not {"y", "p_up"} <= set(frame.columns):
        raise ValueError("a live frame needs the columns y and p_up")
    f = frame[["y", "p_up"]].astype(np.float64)
    return f[f["y"].notna() & f["p_up"].notna()].sort_index()


def rolling(frame: pd.DataFrame, window: int) -> pd.DataFrame:
    """The last ``window`` scored bars, with ``base``: the live base rate from *all* earlier scored bars."""
    _check_window(window)
    s = scored(frame)
    return s.assign(base=base_rate_p(s["y"].to_numpy())).iloc[-window:]


def live_metrics(y, p, base=None, bins: int = BINS) -> dict | None:
    """Metrics of scored live predictions (None when there are none); ``base`` defaults to ``base_rate_p(y)``."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    if len(y) == 0:
        return None
    m = classification_metrics(y, p)
    base = base_rate_p(y) if base is None else np.asarray(base, dtype=np.float64)
    m["curve"] = reliability_curve(y, p, bins)
    m["base_rate_log_loss"] = float(np.mean(log_losses(y, base)))
    return m


def diebold_mariano(loss_a, loss_b, lag: int | None = None) -> dict:
    a = np.asarray(loss_a, dtype=np.float64)
    b = np.asarray(loss_b, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape or not np.isfinite(a).all() or not np.isfinite(b).all():
        raise ValueError("the test needs two finite loss series on the same bars")
    n = len(a)
    d = a - b
    out = {"test": TEST, "n": n, "mean_diff": float(d.mean()) if n else None, "statistic": None, "p_value": None}
    if n < 3:
        return out
    lag = int(math.floor(n ** (1 / 3) + 1e-9)) if lag is None else int(lag)
    if not 0 <= lag < n:
        raise ValueError(f"lag must be 0..{n - 1}")
    e = d - d.mean()
    s = float(e @ e) / n
    for k in range(1, lag + 1):
        s += 2.0 * (1.0 - k / (lag + 1)) * float(e[k:] @ e[:-k]) / n
    out["lag"] = lag
    if s <= 1e-18:
        return out
    stat = float(d.mean() / math.sqrt(s / n))
    out.update(statistic=stat, p_value=float(math.erfc(abs(stat) / math.sqrt(2.0))))
    return out


def compare(champion: pd.DataFrame, challenger: pd.DataFrame, window: int) -> dict:
    """Champion vs challenger on the last ``window`` scored bars both predicted."""
    _check_window(window)
    a, b = scored(champion), scored(challenger)
    common = a.index.intersection(b.index)[-window:]
    a, b = a.loc[common], b.loc[common]
    if not (a["y"].to_numpy() == b["y"].to_numpy()).all():
        raise ValueError("the two versions were scored with different outcomes for the same bar")
    la, lb = log_losses(a["y"], a["p_up"]), log_losses(b["y"], b["p_up"])
    return {"n": len(common), "champion_log_loss": float(la.mean()) if len(common) else None,
            "challenger_log_loss": float(lb.mean()) if len(common) else None,
            "dm": diebold_mariano(la, lb), "window": window}


def review(champion: pd.DataFrame, challenger: pd.DataFrame | None, window: int,
           min_samples: int = MIN_SAMPLES) -> dict:
    """Is the champion behind the live base rate or the challenger over the window? See the module docstring."""
    _check_window(window)
    mine = rolling(champion, window)
    out = {"window": window, "n": len(mine), "flagged": False, "reasons": [], "judged": len(mine) >= min_samples,
           "metrics": live_metrics(mine["y"], mine["p_up"], mine["base"]), "versus": None}
    if not out["judged"]:
        out["reasons"].append(f"{len(mine)} scored live bars, fewer than the {min_samples} needed to judge")
        return out
    m = out["metrics"]
    if m["log_loss"] > m["base_rate_log_loss"]:
        out["flagged"] = True
        out["reasons"].append(f"live log loss {m['log_loss']:.5f} is behind the live base rate's "
                              f"{m['base_rate_log_loss']:.5f} over the last {len(mine)} scored bars")
    if challenger is not None:
        vs = compare(champion, challenger, window)
        out["versus"] = vs
        if vs["n"] >= min_samples and vs["champion_log_loss"] > vs["challenger_log_loss"]:
            out["flagged"] = True
            p = vs["dm"]["p_value"]
            out["reasons"].append(
                f"live log loss {vs['champion_log_loss']:.5f} is behind the challenger's "
                f"{vs['challenger_log_loss']:.5f} on the same {vs['n']} bars (Diebold-Mariano p = "
                f"{'n/a' if p is None else f'{p:.3f}'})")
    return out


def _check_window(window) -> None:
    if isinstance(window, bool) or not isinstance(window, int) or not 1 <= window <= 100_000:
        raise ValueError(f"window must be a whole number of bars from 1 to 100000, got {window!r}")
