"""Expanding-window walk-forward: how the LSTM does on bars it never saw.

The labelled windows are split in time: the first ``min_train_fraction`` is
the initial training span, the rest is cut into ``folds`` consecutive test
spans (``fold_plan``). For fold k (``run_fold``) a fresh model is trained on
every candle before test span k (labels included only when the next close is
also before it; its calibrator sees only the validation tail of that span) and
predicts test span k; the baselines are estimated on the same training
samples. Only these out-of-sample numbers are reported:

* ``summary``: per model (``lstm`` = calibrated, ``base_rate``,
  ``persistence``: what the pages and the edge rule read) the metrics of
  ``ml.metrics`` over all test spans pooled; ``references`` the same for the
  models reported next to them (``lstm_raw`` = the network's raw output,
  ``logistic`` = the ten-line logistic regression);
* ``calibration``: reliability curve and expected calibration error of the
  raw and the calibrated probabilities on the test spans;
* ``ood``: how many test windows the out-of-distribution rule (``ml.ood``)
  would have hidden, and the calibrated metrics on the ones it would show;
* ``uncertainty``: the spread (population standard deviation) of calibrated
  p(up) across the fold models already trained before each test bar (fold k:
  models 1..k), and the accuracy below / above the median spread.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ml.baselines import baseline_predictions
from ml.config import TrainConfig
from ml.edge import has_edge
from ml.features import build_features, next_return
from ml.metrics import BINS, classification_metrics, expected_calibration_error, reliability_curve
from ml.training import SPREAD_METHOD, TrainedModel, train, training_samples
from ml.windows import Samples, first_valid, samples

MODELS = ("lstm", "base_rate", "persistence")                  # ``summary``: what the pages and the edge rule read
REFERENCES = ("lstm_raw", "logistic")                          # ``references``: reported next to them
REPORTED = (*MODELS, *REFERENCES)


@dataclass(frozen=True)
class WalkForward:
    folds: pd.DataFrame          # one row per fold: spans and each model's metrics
    summary: dict                # model -> metrics over all test spans pooled (MODELS)
    predictions: pd.Series       # the LSTM's calibrated out-of-sample p(up), test spans only
    oos: pd.DataFrame | None = None          # per test bar: y, every model's p, ood, spread, fold
    calibration: dict = field(default_factory=dict)
    ood: dict = field(default_factory=dict)
    uncertainty: dict = field(default_factory=dict)
    models: tuple[TrainedModel, ...] = ()    # the fold models, oldest first (store them as a version's members)
    references: dict = field(default_factory=dict)   # REFERENCES model -> metrics, like summary

    def beats_baselines(self, metric: str = "log_loss") -> bool:
        """The edge rule of ``ml.edge`` on the pooled out-of-sample summary."""
        return has_edge(self.summary, metric)

    def to_dict(self) -> dict:
        folds = self.folds.copy()
        for col in ("train_until", "test_from", "test_until"):
            folds[col] = folds[col].map(lambda t: t.isoformat())
        return _clean({"summary": self.summary, "references": self.references,
                       "folds": folds.to_dict(orient="records"),
                       "calibration": self.calibration, "ood": self.ood, "uncertainty": self.uncertainty})


def _clean(value):
    """JSON-safe: NaN and infinities become None, numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    return value


@dataclass(frozen=True)
class Fold:
    model: TrainedModel
    test: Samples
    preds: dict[str, np.ndarray]     # REPORTED model -> p(up) on the test span
    ood: np.ndarray                  # the OOD rule's verdict per test window
    spread: np.ndarray               # across the models trained before the span (NaN with one model)


def fold_plan(candles: pd.DataFrame, config: TrainConfig, folds: int = 3, min_train_fraction: float = 0.5
              ) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """(first, last) bar of each test span."""
    if isinstance(folds, bool) or not isinstance(folds, int) or not 1 <= folds <= 20:
        raise ValueError("folds must be an integer 1..20")
    if not 0.1 <= min_train_fraction <= 0.9:
        raise ValueError("min_train_fraction must be in [0.1, 0.9]")
    feats = build_features(candles)
    ends = feats.index[first_valid(feats) + config.lookback - 1:-1]     # labelled window ends
    first_test = int(len(ends) * min_train_fraction)
    bounds = np.linspace(first_test, len(ends), folds + 1).astype(int)
    if np.any(np.diff(bounds) < 1):
        raise ValueError(f"not enough labelled windows ({len(ends)}) for {folds} test spans")
    return [(ends[bounds[k]], ends[bounds[k + 1] - 1]) for k in range(folds)]


def run_fold(candles: pd.DataFrame, config: TrainConfig, test_from: pd.Timestamp, test_until: pd.Timestamp,
             earlier: Sequence[TrainedModel] = (), progress: Callable[[float, str], None] | None = None) -> Fold:
    """Train on the candles before ``test_from``, predict the windows ending in [test_from, test_until]."""
    history = candles.loc[candles.index < test_from]                 # the training span
    model = train(history, config, progress)
    train_set, _ = training_samples(history, config)
    feats, label = build_features(candles), next_return(candles)
    test_set = samples(feats, model.scaler, config.lookback, label, start=test_from, end=test_until)
    raw = model.predict_samples(test_set, calibrated=False)
    preds = {"lstm": model.calibrate(raw), "lstm_raw": raw, **baseline_predictions(train_set, test_set)}
    ensemble = [preds["lstm"]]
    for m in earlier:
        s = samples(feats, m.scaler, m.config.lookback, label, start=test_from, end=test_until)
        ensemble.append(m.predict_samples(s))
    spread = np.std(np.vstack(ensemble), axis=0) if len(ensemble) > 1 else np.full(len(raw), np.nan)
    return Fold(model, test_set, preds, model.ood_flags(test_set), spread)


def walk_forward(candles: pd.DataFrame, config: TrainConfig | None = None, folds: int = 3,
                 min_train_fraction: float = 0.5,
                 progress: Callable[[float, str], None] | None = None) -> WalkForward:
    config = config or TrainConfig()
    plan = fold_plan(candles, config, folds, min_train_fraction)
    rows, parts, models = [], [], []
    for k, (test_from, test_until) in enumerate(plan):
        def fold_progress(pct, phase, k=k):
            if progress is not None:
                progress(100.0 * (k + pct / 100.0) / folds, f"fold {k + 1}/{folds}: {phase}")

        f = run_fold(candles, config, test_from, test_until, earlier=models, progress=fold_progress)
        models.append(f.model)
        row = {"fold": k + 1, "train_until": f.model.trained_until, "test_from": test_from,
               "test_until": test_until, "n_train": f.model.n_train + f.model.n_validation,
               "n_validation": f.model.n_validation, "epochs_run": f.model.epochs_run,
               "ood_share": float(f.ood.mean()), "spread_mean": float(np.mean(f.spread))}
        for name in REPORTED:
            for key, value in classification_metrics(f.test.y, f.preds[name]).items():
                row[f"{name}_{key}"] = value
        rows.append(row)
        parts.append(pd.DataFrame({"y": f.test.y, **f.preds, "ood": f.ood, "spread": f.spread, "fold": k + 1},
                                  index=f.test.times))
    oos = pd.concat(parts)
    y = oos["y"].to_numpy()
    pooled = {m: classification_metrics(y, oos[m].to_numpy()) for m in REPORTED}
    return WalkForward(pd.DataFrame(rows), {m: pooled[m] for m in MODELS}, oos["lstm"].rename("p_up"), oos,
                       calibration_report(y, oos["lstm_raw"].to_numpy(), oos["lstm"].to_numpy(), config),
                       ood_report(oos, config), uncertainty_report(oos), tuple(models),
                       {m: pooled[m] for m in REFERENCES})


def calibration_report(y, p_raw, p_cal, config: TrainConfig, bins: int = BINS) -> dict:
    return {"method": config.calibration, "fitted_on": "the validation tail of each fold's training span",
            "evaluated_on": "the test spans (out of sample)", "bins": bins,
            "before": {"ece": expected_calibration_error(y, p_raw, bins), "curve": reliability_curve(y, p_raw, bins)},
            "after": {"ece": expected_calibration_error(y, p_cal, bins), "curve": reliability_curve(y, p_cal, bins)}}


def ood_report(oos: pd.DataFrame, config: TrainConfig) -> dict:
    shown = oos[~oos["ood"].astype(bool)]
    return {"rule": f"hidden when any feature z-score in the window is more than {config.ood_margin:g} beyond "
                    "the training span's [min, max] for that feature",
            "margin": config.ood_margin, "n": int(len(oos)), "hidden": int(oos["ood"].sum()),
            "share": float(oos["ood"].mean()),
            "shown": classification_metrics(shown["y"], shown["lstm"]) if len(shown) else None}


def uncertainty_report(oos: pd.DataFrame) -> dict:
    have = oos[np.isfinite(oos["spread"].to_numpy())]
    out = {"method": SPREAD_METHOD, "n": int(len(have)), "mean_spread": None, "median_spread": None,
           "accuracy_low_spread": None, "accuracy_high_spread": None}
    if len(have) >= 2:
        med = float(have["spread"].median())
        low, high = have[have["spread"] <= med], have[have["spread"] > med]

        def acc(part):
            return float(((part["lstm"] > 0.5) == (part["y"] > 0.5)).mean()) if len(part) else None

        out.update(mean_spread=float(have["spread"].mean()), median_spread=med,
                   accuracy_low_spread=acc(low), accuracy_high_spread=acc(high))
    return out
