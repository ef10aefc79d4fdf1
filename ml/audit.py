"""Leakage audit: what is computed from data up to t must not change when everything after t is deleted.

Two reusable checks, each returning the ``Leak`` found (an empty list means clean):

* ``audit_series(fn, candles, cuts)`` for per-bar values (features,
  predictions, flags): ``fn(candles)`` returns a DataFrame or Series indexed by
  bar time; for every cut time t, ``fn(candles up to t)`` must equal
  ``fn(candles)`` on every row at or before t, column by column (NaN equals
  NaN; a row that exists in one and not the other is a leak too).
* ``audit_fitted(fit, candles, fitted_until, cuts)`` for fitted things
  (scalers, calibrators, training ranges, a fold's test predictions):
  ``fit(candles)`` returns ``{name: array or number}`` that claims to use data
  up to ``fitted_until`` only; for every cut t >= ``fitted_until`` it must be
  identical on ``candles`` up to t.

And the audits of this package's own pipeline:

* ``feature_audit`` — every feature of ``ml.features.build_features``;
* ``prediction_audit`` — a trained model's prediction path
  (``TrainedModel.predict_frame``: features, scaler, network, calibrator, the
  out-of-distribution flag);
* ``inference_audit`` — the latest-bar path that the app stores and shows
  (``ml.inference.assess``: its own tail of candles, features, scaler,
  network, calibrator, the fold models' spread and the out-of-distribution
  rule): at every cut t, ``assess`` on the candles up to t must give what the
  batch path (``predict_frame`` and each fold model's ``predict``) gives for
  bar t with every candle present;
* ``live_audit`` — live scoring (``ml.live.outcomes``): an outcome at a cut
  must not change when the bars after it are deleted, and the cut bar itself
  (its next bar not yet closed) has none;
* ``fold_audit`` — one walk-forward fold end to end (``ml.evaluate.run_fold``):
  per test bar, every model's prediction and the OOD flag with the bars after
  it deleted; and the fitted scaler, training range, calibrator, labels and
  predictions with everything after the fold's last label deleted.

``require_clean(leaks)`` raises ``LeakageError`` listing them.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Leak:
    what: str                          # column or parameter name
    cut: pd.Timestamp                  # everything after this bar was deleted
    first: pd.Timestamp | None         # first bar whose value changed (per-bar audits)
    detail: str

    def __str__(self) -> str:
        at = f" at {self.first.isoformat()}" if self.first is not None else ""
        return f"{self.what}: changed{at} when the bars after {self.cut.isoformat()} were deleted ({self.detail})"


class LeakageError(AssertionError):
    def __init__(self, leaks: list[Leak]):
        self.leaks = leaks
        super().__init__(f"{len(leaks)} look-ahead leak(s): " + "; ".join(str(x) for x in leaks[:10]))


def require_clean(leaks: list[Leak]) -> None:
    if leaks:
        raise LeakageError(leaks)


def _cuts(candles: pd.DataFrame, cuts: Iterable) -> list[pd.Timestamp]:
    out = [pd.Timestamp(t) for t in cuts]
    if not out:
        raise ValueError("the audit needs at least one cut time")
    for t in out:
        if t.tzinfo is None:
            raise ValueError(f"cut time {t} must be timezone-aware (UTC)")
        if t not in candles.index:
            raise ValueError(f"cut time {t.isoformat()} is not a bar of the candles")
    return out


def _frame(value, what: str) -> pd.DataFrame:
    if isinstance(value, pd.Series):
        value = value.to_frame(value.name if value.name is not None else "value")
    if not isinstance(value, pd.DataFrame) or not isinstance(value.index, pd.DatetimeIndex):
        raise ValueError(f"{what} must return a DataFrame or Series indexed by bar time")
    return value


def _differs(a: np.ndarray, b: np.ndarray, atol: float, rtol: float) -> np.ndarray:
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind in "fc" or b.dtype.kind in "fc":
        a, b = a.astype(np.float64), b.astype(np.float64)
        both_nan = np.isnan(a) & np.isnan(b)
        with np.errstate(invalid="ignore"):
            close = np.abs(a - b) <= atol + rtol * np.abs(b)
        return ~(both_nan | close)
    return a != b


def audit_series(fn: Callable[[pd.DataFrame], pd.DataFrame | pd.Series], candles: pd.DataFrame, cuts,
                 *, atol: float = 0.0, rtol: float = 0.0, horizon: int = 0) -> list[Leak]:
    """``horizon``: values at the last ``horizon`` bars before a cut may need later bars by design
    (a row scored by the next bar's label exists only once that bar closed); they are not compared."""
    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 0:
        raise ValueError(f"horizon must be a number of bars >= 0, got {horizon!r}")
    full = _frame(fn(candles), "fn")
    leaks = []
    for t in _cuts(candles, cuts):
        pos = candles.index.get_loc(t)
        if pos - horizon < 0:
            raise ValueError(f"cut {t.isoformat()} leaves nothing to compare with horizon {horizon}")
        last = candles.index[pos - horizon]
        part = _frame(fn(candles.loc[candles.index <= t]), "fn")
        part = part.loc[part.index <= last]
        ref = full.loc[full.index <= last]
        missing = ref.index.difference(part.index).append(part.index.difference(ref.index)).sort_values()
        if len(missing):
            leaks.append(Leak("rows", t, missing[0], f"{len(missing)} bar(s) at or before the cut appear in only "
                                                      "one of the two results"))
            continue
        part = part.loc[ref.index]
        for col in ref.columns:
            if col not in part.columns:
                leaks.append(Leak(str(col), t, None, "the column is missing from the truncated result"))
                continue
            bad = _differs(part[col].to_numpy(), ref[col].to_numpy(), atol, rtol)
            if bad.any():
                i = int(np.argmax(bad))
                leaks.append(Leak(str(col), t, ref.index[i], f"{int(bad.sum())} value(s) differ, first "
                                                             f"{ref[col].iat[i]!r} -> {part[col].iat[i]!r}"))
    return leaks


def audit_fitted(fit: Callable[[pd.DataFrame], dict], candles: pd.DataFrame, fitted_until, cuts,
                 *, atol: float = 0.0, rtol: float = 0.0) -> list[Leak]:
    until = pd.Timestamp(fitted_until)
    full = fit(candles)
    if not isinstance(full, dict):
        raise ValueError("fit must return a dict of named arrays or numbers")
    leaks = []
    for t in _cuts(candles, cuts):
        if t < until:
            raise ValueError(f"cut {t.isoformat()} is before fitted_until {until.isoformat()}: "
                             "the fitted values may legitimately need those bars")
        part = fit(candles.loc[candles.index <= t])
        for name, ref in full.items():
            if name not in part:
                leaks.append(Leak(name, t, None, "missing from the truncated fit"))
                continue
            a, b = np.asarray(part[name]), np.asarray(ref)
            if a.shape != b.shape:
                leaks.append(Leak(name, t, None, f"shape {b.shape} -> {a.shape}"))
                continue
            bad = _differs(a, b, atol, rtol)
            if np.any(bad):
                leaks.append(Leak(name, t, None, f"{int(np.sum(bad))} of {b.size} value(s) differ"))
    return leaks


def default_cuts(candles: pd.DataFrame, n: int = 4, skip: int = 0) -> list[pd.Timestamp]:
    """``n`` cut times spread over the candles after the first ``skip`` bars (the last bar excluded)."""
    pos = np.linspace(skip, len(candles) - 2, n).astype(int)
    return [candles.index[p] for p in np.unique(pos)]


def feature_audit(candles: pd.DataFrame, cuts=None, build=None) -> list[Leak]:
    """Every feature column of ``build`` (default ``ml.features.build_features``)."""
    from ml.features import WARMUP, build_features

    build = build or build_features
    return audit_series(build, candles, cuts if cuts is not None else default_cuts(candles, skip=WARMUP))


def prediction_audit(trained, candles: pd.DataFrame, cuts=None, *, atol: float = 1e-6) -> list[Leak]:
    """A trained model's whole prediction path, per bar: ``p_raw``, ``p_up`` (calibrated), ``ood``.

    ``atol`` absorbs float round-off between batch sizes of the same network."""
    from ml.features import WARMUP

    skip = WARMUP + trained.config.lookback
    return audit_series(trained.predict_frame, candles,
                        cuts if cuts is not None else default_cuts(candles, skip=skip), atol=atol)


def inference_audit(trained, candles: pd.DataFrame, cuts=None, *, atol: float = 1e-6) -> list[Leak]:
    """``ml.inference.assess`` at each cut (candles up to it only) against the batch path on all candles."""
    from ml.features import WARMUP
    from ml.inference import assess

    cuts = _cuts(candles, cuts if cuts is not None else default_cuts(candles, skip=WARMUP + trained.config.lookback))
    frame = trained.predict_frame(candles)
    members = [m.predict(candles) for m in trained.members]
    leaks = []
    for t in cuts:
        got = assess(trained, candles.loc[candles.index <= t])
        if got.time != t:
            leaks.append(Leak("time", t, got.time, "the prediction is not for the cut bar"))
            continue
        ref = frame.loc[t]
        spread = float(np.std([ref["p_up"], *(m.loc[t] for m in members)])) if members else None
        pairs = {"p_raw": (got.p_raw, float(ref["p_raw"])),
                 "p_up": (got.p_up, None if ref["ood"] else float(ref["p_up"])),
                 "withheld": (got.reason is not None, bool(ref["ood"])),
                 "spread": (got.spread, spread)}
        for name, (a, b) in pairs.items():
            same = (a is None and b is None) or (a is not None and b is not None and
                                                 not _differs(np.asarray([a]), np.asarray([b]), atol, 0.0).any())
            if not same:
                leaks.append(Leak(name, t, t, f"{b!r} with every candle -> {a!r} with the candles up to the cut"))
    return leaks


def live_audit(close: pd.Series, bar_times, cuts) -> list[Leak]:
    """Live outcomes (``ml.live.outcomes``) with the bars after each cut deleted."""
    from ml.live import outcomes

    times = pd.DatetimeIndex(bar_times)
    leaks = []
    for t in _cuts(close.to_frame("close"), cuts):
        full = outcomes(close, times, t)
        part = outcomes(close.loc[close.index <= t], times, t)
        bad = _differs(part, full, 0.0, 0.0)
        if bad.any():
            i = int(np.argmax(bad))
            leaks.append(Leak("outcome", t, times[i], f"{int(bad.sum())} outcome(s) differ"))
        at_cut = times == t
        if at_cut.any() and np.isfinite(full[at_cut]).any():
            leaks.append(Leak("outcome", t, t, "the cut bar was scored before its next bar closed"))
    return leaks


def fold_state(fold) -> dict:
    """Everything a walk-forward fold computed, as named arrays."""
    m = fold.model
    cal = m.calibrator.params if m.calibrator else {}
    state = {"scaler_mean": m.scaler.mean, "scaler_std": m.scaler.std,
             "range_lo": m.feature_range.lo, "range_hi": m.feature_range.hi,
             "calibrator": np.concatenate([np.ravel(np.asarray(cal[k], dtype=np.float64)) for k in sorted(cal)])
             if cal else np.empty(0),
             "test_times": fold.test.times.asi8, "test_y": fold.test.y, "ood": fold.ood}
    for name, p in fold.preds.items():
        state[f"pred_{name}"] = p
    return state


def fold_audit(candles: pd.DataFrame, config, test_from, test_until, *, atol: float = 1e-6, run=None
               ) -> list[Leak]:
    """One walk-forward fold (``run``, default ``ml.evaluate.run_fold``) retrained on cut candles.

    Per bar: every model's prediction and the OOD flag at a test bar must not
    change when the bars after it are deleted (cuts at one and two thirds of
    the test span; the last row before a cut is skipped, its label needs the
    next bar). Fitted state: scaler, training range, calibrator, labels and
    predictions must not change when everything after the fold's last label
    is deleted (cuts at the bar after ``test_until`` and half-way to the end)."""
    from ml.evaluate import run_fold

    run = run or run_fold
    test_from, test_until = pd.Timestamp(test_from), pd.Timestamp(test_until)
    inside = candles.index[(candles.index >= test_from) & (candles.index <= test_until)]
    after = candles.index[candles.index > test_until]
    if len(inside) < 3 or len(after) == 0:
        raise ValueError("the fold audit needs 3+ test bars and a bar after test_until (its last label)")

    def per_bar(c):
        f = run(c, config, test_from, test_until)
        return pd.DataFrame({**f.preds, "ood": f.ood}, index=f.test.times)

    leaks = audit_series(per_bar, candles, [inside[len(inside) // 3], inside[2 * len(inside) // 3]],
                         atol=atol, horizon=1)
    ends = sorted({after[0], after[len(after) // 2]})
    return leaks + audit_fitted(lambda c: fold_state(run(c, config, test_from, test_until)), candles, after[0],
                                ends, atol=atol)
