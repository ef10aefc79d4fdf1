"""Benchmark: a parameter grid in this engine vs vectorbt's broadcasted ``Portfolio.from_signals``.

    PYTHONPATH=. .venv/bin/python bench/backtest_grid.py            # ~1-3 min (+ the reference venv the first time)
    PYTHONPATH=. .venv/bin/python bench/backtest_grid.py --bars 200000 --rounds 3

The SMA crossover (``ma_cross``, default ``entry=cross``) over 100 (fast, slow)
pairs — fast 30..120, slow 150..510 — on 1,000,000 one-minute bars with the
taker fee, next-open fills, all-in sizing and 1e-6 lots (the matching
configuration of ``bench/backtest.py``). This engine runs all 100 sets in one
``app.backtest.grid.run_grid`` call from prepared data: the rolling means (once
per distinct window), every set's targets, the compiled simulation on a thread
per core, trade records, final equity and the optimisation metrics. vectorbt
1.2 gets the same 100 target columns precomputed (its fastest path) and runs
one broadcasted ``from_signals`` call with trade records and final values, in
its own venv (``bench/.venvs/backtest-ref``, created by ``bench/backtest.py``'s
helper from ``bench/requirements-backtest-ref.txt``). The two alternate round
by round so the load of this shared machine hits both alike; best of each.

Checks that every set's trade count (closed and open) and final equity agree,
then times a 3-fold walk-forward over the same grid (train 400,000 bars, test
200,000; ``walkforward.walk_forward``, the function the app's jobs call), warm.
Last lines are ``RESULT`` lines.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from backtest import (INITIAL_CASH, MATCH, QTY_STEP, REF_SCRIPT, TAKER_FEE, VENVS,  # noqa: E402
                      ensure_ref_venv, make_candles)

from app.backtest.engine import prepare  # noqa: E402
from app.backtest.grid import grid_targets, run_grid  # noqa: E402
from app.backtest.strategies import MovingAverageCross  # noqa: E402
from app.backtest.walkforward import walk_forward  # noqa: E402

GRID = {"fast": list(range(30, 121, 10)), "slow": list(range(150, 511, 40))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bars", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--rounds", type=int, default=4)
    args = ap.parse_args()
    n = args.bars

    candles = make_candles(n, args.seed)
    combos = [{"fast": f, "slow": s} for f in GRID["fast"] for s in GRID["slow"]]
    VENVS.mkdir(parents=True, exist_ok=True)
    data_path = VENVS / f"grid-data-{n}-{args.seed}.npz"
    targets_path = VENVS / f"grid-targets-{n}-{args.seed}.npy"
    targets = grid_targets(candles, MovingAverageCross, combos)
    np.save(targets_path, np.stack([targets(k) for k in range(len(combos))], axis=1))
    np.savez(data_path, time=candles.index.as_unit("ns").asi8,
             **{c: candles[c].to_numpy() for c in ("open", "high", "low", "close", "volume")},
             initial_cash=INITIAL_CASH, taker_fee=TAKER_FEE, qty_step=QTY_STEP)
    print(f"data: {n} one-minute bars, {len(combos)} (fast, slow) pairs, threads: {os.cpu_count()}", flush=True)

    data = prepare(candles)
    run_grid(candles, MovingAverageCross, combos, MATCH, data=data)        # compile / warm

    ref_py = ensure_ref_venv()
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        proc = subprocess.Popen([str(ref_py), str(REF_SCRIPT), "--serve-vectorbt-grid", str(data_path),
                                 str(targets_path), out.name], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            if proc.stdout.readline().strip() != "ready":
                sys.exit("the vectorbt grid server did not start")
            vbt_times, ours_times, runs = [], [], None
            for _ in range(args.rounds):
                proc.stdin.write("\n")
                proc.stdin.flush()
                vbt_times.append(float(proc.stdout.readline()))
                t = time.perf_counter()
                runs = run_grid(candles, MovingAverageCross, combos, MATCH, data=data)
                ours_times.append(time.perf_counter() - t)
        finally:
            proc.stdin.close()
            proc.wait(timeout=120)
        ref = json.loads(Path(out.name).read_text())

    ours_counts = [r.n_records for r in runs]
    ours_final = np.array([r.final_equity for r in runs])
    counts_ok = ours_counts == ref["n_trades"]
    # quantities agree within one lot (bench/backtest.py), so final equity within 1e-6 or one lot's value
    lot = QTY_STEP * float(candles.close.iloc[-1])
    tol = np.maximum(1e-6 * np.abs(ours_final), lot)
    finals_ok = bool((np.abs(ours_final - np.array(ref["final_equity"])) <= tol).all())
    bad = [combos[k] for k in range(len(combos))
           if ours_counts[k] != ref["n_trades"][k] or abs(ours_final[k] - ref["final_equity"][k]) > tol[k]]
    worst = float(np.max(np.abs(ours_final / np.array(ref["final_equity"]) - 1)))
    print(f"\nsame trade count in every set: {counts_ok}; same final equity (1e-6 or one lot) in every set: "
          f"{finals_ok} (largest relative difference {worst:.1e})"
          + (f"; differing sets: {bad[:5]}" if bad else ""))
    print(f"trades per set: {min(ours_counts)}..{max(ours_counts)}, {sum(ours_counts):,} in all")

    # the walk-forward the app's jobs run, over the same grid: 3 folds
    train, test = int(n * 0.4), int(n * 0.2)
    walk_forward(candles, MovingAverageCross, GRID, MATCH, train_bars=train, test_bars=test)      # warm
    wf_times = []
    for _ in range(2):
        t = time.perf_counter()
        wf = walk_forward(candles, MovingAverageCross, GRID, MATCH, train_bars=train, test_bars=test)
        wf_times.append(time.perf_counter() - t)
    print(f"walk-forward: {len(wf.windows)} folds (train {train:,}, test {test:,}), chosen "
          f"{list(wf.windows.params)}; {min(wf_times):.3f} s best of {len(wf_times)}")

    vbt, ours = min(vbt_times), min(ours_times)
    print(f"\n{'engine':66s} {'seconds':>9s}")
    print(f"{'this engine, run_grid (100 sets, records + final equity + metrics)':66s} {ours:9.3f}")
    print(f"{'vectorbt 1.2, broadcasted from_signals (100 columns, records + final value)':66s} {vbt:9.3f}")
    print(f"rounds (vectorbt / ours): {[f'{v:.2f}/{o:.2f}' for v, o in zip(vbt_times, ours_times)]}; "
          f"load average now {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"RESULT grid_trades_match {int(counts_ok and finals_ok)} bool")
    print(f"RESULT grid_speedup_vs_vectorbt {vbt / ours:.1f} x")
    print(f"RESULT walkforward_grid_s {min(wf_times):.3f} s")


if __name__ == "__main__":
    main()
