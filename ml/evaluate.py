"""Expanding-window walk-forward: how the LSTM does on bars it never saw.

The labelled windows are split in time: the first ``min_train_fraction`` is
the initial training span, the rest is cut into ``folds`` consecutive test
spans. For fold k a fresh model is trained on every candle before test span k
(labels included only when the next close is also before it) and predicts
test span k; the naive baselines are estimated on the same training samples.
Only these out-of-sample numbers are reported.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.baselines import baseline_predictions, metrics
from ml.config import TrainConfig
from ml.features import build_features, next_return
from ml.training import train, training_samples
from ml.windows import first_valid, samples

MODELS = ("lstm", "base_rate", "persistence")


@dataclass(frozen=True)
class WalkForward:
    folds: pd.DataFrame          # one row per fold: spans and each model's metrics
    summary: dict                # model -> metrics over all test spans pooled
    predictions: pd.Series       # the LSTM's out-of-sample p(up), test spans only

    def beats_baselines(self, metric: str = "log_loss") -> bool:
        """Lower log loss (or Brier) than both naive baselines over all test spans."""
        lstm = self.summary["lstm"][metric]
        return all(lstm < self.summary[b][metric] for b in MODELS[1:])

    def to_dict(self) -> dict:
        folds = self.folds.copy()
        for col in ("train_until", "test_from", "test_until"):
            folds[col] = folds[col].map(lambda t: t.isoformat())
        return {"summary": self.summary, "folds": folds.to_dict(orient="records")}


def walk_forward(candles: pd.DataFrame, config: TrainConfig | None = None, folds: int = 3,
                 min_train_fraction: float = 0.5,
                 progress: Callable[[float, str], None] | None = None) -> WalkForward:
    config = config or TrainConfig()
    if not 1 <= folds <= 20:
        raise ValueError("folds must be 1..20")
    if not 0.1 <= min_train_fraction <= 0.9:
        raise ValueError("min_train_fraction must be in [0.1, 0.9]")
    feats = build_features(candles)
    label = next_return(candles)
    ends = feats.index[first_valid(feats) + config.lookback - 1:-1]     # labelled window ends
    first_test = int(len(ends) * min_train_fraction)
    bounds = np.linspace(first_test, len(ends), folds + 1).astype(int)
    rows, ys, ps, times = [], {m: [] for m in MODELS}, {m: [] for m in MODELS}, []
    for k in range(folds):
        test_from, test_until = ends[bounds[k]], ends[bounds[k + 1] - 1]
        history = candles.loc[candles.index < test_from]                 # the training span

        def fold_progress(pct, phase, k=k):
            if progress is not None:
                progress(100.0 * (k + pct / 100.0) / folds, f"fold {k + 1}/{folds}: {phase}")

        model = train(history, config, fold_progress)
        train_set, _ = training_samples(history, config)
        test_set = samples(feats, model.scaler, config.lookback, label, start=test_from, end=test_until)
        preds = {"lstm": model.predict_samples(test_set), **baseline_predictions(train_set, test_set)}
        row = {"fold": k + 1, "train_until": model.trained_until, "test_from": test_from,
               "test_until": test_until, "n_train": model.n_train + model.n_validation,
               "epochs_run": model.epochs_run}
        for name, p in preds.items():
            for key, value in metrics(test_set.y, p).items():
                row[f"{name}_{key}"] = value
            ys[name].append(test_set.y)
            ps[name].append(p)
        rows.append(row)
        times.append(test_set.times)
    summary = {m: metrics(np.concatenate(ys[m]), np.concatenate(ps[m])) for m in MODELS}
    oos = pd.Series(np.concatenate(ps["lstm"]), index=times[0].append(times[1:]), name="p_up")
    return WalkForward(pd.DataFrame(rows), summary, oos)
