"""Benchmark: this backtest engine vs backtesting.py and vectorbt on 1,000,000 one-minute bars.

    .venv/bin/python bench/backtest.py            # full run, ~1-2 min (+ the reference venv the first time)
    .venv/bin/python bench/backtest.py --bars 200000 --skip-backtesting

One SMA(50)/SMA(200) crossover, long/short, decided at each bar's close and
filled at the next bar's open, all-in sizing with the taker fee included,
lots of ``QTY_STEP``; the same data file and the same target positions go to
all three engines. vectorbt 1.2 pins a numba that conflicts with pandas-ta's,
so vectorbt and backtesting.py run in their own venv (``bench/.venvs/``,
created here with this interpreter from ``bench/requirements-backtest-ref.txt``)
through ``bench/backtest_refs.py``. vectorbt gets plain arrays (its fastest
path) and, for the end-to-end comparison, DatetimeIndex-ed Series like the
candle frame we start from.

Checks that the three produce the same closed trades (entry/exit bar and
price, quantity within one lot) and the same final equity, then prints warm
bars/s: ours both on the matching configuration and with the full engine on
(stop-loss, trailing stop, take-profit, volatility-targeted sizing, slippage,
funding, trade records). Like vectorbt's ``pf.trades.records`` (a record
array), a result holds the kernel's trade records; its pandas ``trades``
DataFrame is built on first access, timed separately
(``speedup_vs_vectorbt_with_trades_frame``). Cold first call = first ``run_backtest`` in a new
process: with numba's on-disk cache (the normal case after one run) and with
an empty cache (compilation included).

End to end: ``run_backtest`` from the candle DataFrame (one-pass validation,
XXH3-128 hash) over the same call on prepared data (``end_to_end_over_kernel``),
and the full single run on prepared data over a bare numba loop that only
fills all-in at the next open and marks equity at every close over the same
arrays, the physical floor of any engine that returns an equity curve
(``ratio_to_bare_loop``), with a breakdown of where our time goes. The three
alternate round by round. Last lines are ``RESULT`` lines.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from numba import njit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.backtest.config import BacktestConfig, Costs  # noqa: E402
from app.backtest.engine import prepare, run_backtest  # noqa: E402
from app.backtest.strategies import MovingAverageCross  # noqa: E402

VENVS = ROOT / "bench" / ".venvs"
REF_VENV = VENVS / "backtest-ref"
REF_REQS = ROOT / "bench" / "requirements-backtest-ref.txt"
REF_SCRIPT = ROOT / "bench" / "backtest_refs.py"
INITIAL_CASH = 100_000.0
TAKER_FEE = 0.0004
QTY_STEP = 1e-6          # 1 micro-BTC lots (backtesting.py trades whole units; FractionalBacktest scales)

MATCH = BacktestConfig(initial_cash=INITIAL_CASH, costs=Costs(maker_fee=0.0002, taker_fee=TAKER_FEE, slippage_bps=0.0),
                       sizing="fixed_fraction", fraction=1.0, qty_step=QTY_STEP, close_at_end=False)
FULL = BacktestConfig(initial_cash=INITIAL_CASH,
                      costs=Costs(maker_fee=0.0002, taker_fee=TAKER_FEE, slippage_bps=2.0, funding_rate=0.0001),
                      sizing="vol_target", target_vol=0.6, vol_lookback=60, qty_step=QTY_STEP,
                      stop_loss=0.006, take_profit=0.015, trailing_stop=0.01, close_at_end=True)


@njit(cache=True, nogil=True)
def bare_loop(open_, close, target, fee, cash0):
    """The floor: next-open fills all-in with a fee, equity marked at every close, one pass."""
    n = open_.shape[0]
    equity = np.empty(n)
    cash = cash0
    qty = 0.0
    trades = 0
    for i in range(n):
        want = target[i - 1] if i > 0 else 0
        side = 1 if qty > 0 else (-1 if qty < 0 else 0)
        o = open_[i]
        if want != side:
            if qty != 0.0:
                cash += qty * o - abs(qty) * o * fee
                qty = 0.0
                trades += 1
            if want != 0:
                q = cash / (o * (1.0 + fee))
                cash -= want * q * o + q * o * fee
                qty = want * q
        equity[i] = cash + qty * close[i]
    return equity, trades


def make_candles(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 30_000.0 * np.exp(np.cumsum(rng.normal(0, 0.0008, n)))
    open_ = np.r_[30_000.0, close[:-1]] * np.exp(rng.normal(0, 0.0001, n))
    high = np.maximum(open_, close) * (1 + rng.exponential(0.0003, n))
    low = np.minimum(open_, close) * (1 - rng.exponential(0.0003, n))
    idx = pd.date_range("2023-01-01", periods=n, freq="1min", tz="UTC", name="time")
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close,
                         "volume": rng.uniform(1, 50, n)}, index=idx)


def ensure_ref_venv() -> Path:
    """Create bench/.venvs/backtest-ref with this interpreter and the pinned reference deps."""
    py = REF_VENV / "bin" / "python"
    marker = REF_VENV / ".requirements.sha256"
    want = hashlib.sha256(REF_REQS.read_bytes()).hexdigest()
    if py.exists() and marker.exists() and marker.read_text() == want:
        return py
    print(f"creating {REF_VENV} (one time) ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(REF_VENV)], check=True)
    log = VENVS / "backtest-ref-pip.log"
    with log.open("w") as fh:
        done = subprocess.run([str(py), "-m", "pip", "install", "-q", "-r", str(REF_REQS)], stdout=fh, stderr=fh)
    if done.returncode:
        sys.exit(f"installing the reference engines failed; see {log}")
    marker.write_text(want)
    return py


COLD_SNIPPET = r"""
import sys, time, json
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
import numpy as np, pandas as pd
from app.backtest import engine, config as C
t1 = time.perf_counter()
z = np.load({data!r})
df = pd.DataFrame({{c: z[c] for c in ("open", "high", "low", "close", "volume")}},
                  index=pd.to_datetime(z["time"], utc=True).rename("time"))
cfg = C.BacktestConfig.from_dict(json.loads({cfg!r}))
t2 = time.perf_counter()
r = engine.run_backtest(df, z["target"], cfg)
t3 = time.perf_counter()
print(json.dumps({{"import_s": t1 - t0, "first_call_s": t3 - t2, "trades": len(r.trades)}}))
"""


def cold_call(data_path: Path, config: BacktestConfig, cache_dir: str | None) -> dict:
    env = dict(os.environ)
    if cache_dir:
        env["NUMBA_CACHE_DIR"] = cache_dir
    code = COLD_SNIPPET.format(root=str(ROOT), data=str(data_path), cfg=json.dumps(config.to_dict()))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def interleaved(ref_py: Path, data_path: Path, ours: dict, rounds: int) -> tuple[float, dict]:
    """Best of ``rounds`` for vectorbt and for each of ``ours``, run alternately."""
    proc = subprocess.Popen([str(ref_py), str(REF_SCRIPT), "--serve-vectorbt", str(data_path)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        if proc.stdout.readline().strip() != "ready":
            sys.exit("the vectorbt timing server did not start")
        vbt, mine = [], {name: [] for name in ours}
        for _ in range(rounds):
            proc.stdin.write("\n")
            proc.stdin.flush()
            vbt.append(float(proc.stdout.readline()))
            for name, fn in ours.items():
                t = time.perf_counter()
                fn()
                mine[name].append(time.perf_counter() - t)
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
    return min(vbt), {name: min(times) for name, times in mine.items()}


def compare(ours: pd.DataFrame, ours_final: float, ref: dict, index: pd.DatetimeIndex) -> tuple[bool, str]:
    t = ref["trades"]
    if len(t["entry_i"]) != len(ours):
        return False, f"trade count {len(t['entry_i'])} vs ours {len(ours)}"
    pos = pd.Index(index)
    checks = {
        "entry bars": np.array_equal(pos.get_indexer(ours.entry_time), t["entry_i"]),
        "exit bars": np.array_equal(pos.get_indexer(ours.exit_time), t["exit_i"]),
        "sides": np.array_equal(ours.side.astype(str).eq("long").to_numpy(), t["long"]),
        "entry prices": np.allclose(ours.entry_price, t["entry_price"], rtol=1e-9, atol=0),
        "exit prices": np.allclose(ours.exit_price, t["exit_price"], rtol=1e-9, atol=0),
        "quantities (1 lot)": np.allclose(ours.qty, t["qty"], rtol=0, atol=QTY_STEP * 1.001),
        "final equity (1e-6)": abs(ref["final_equity"] / ours_final - 1) < 1e-6,
    }
    bad = [k for k, ok in checks.items() if not ok]
    qty_diff = int(np.sum(~np.isclose(ours.qty, t["qty"], rtol=1e-12, atol=0)))
    detail = (f"{len(ours)} trades; final equity {ref['final_equity']:.6f} vs ours {ours_final:.6f}; "
              f"{qty_diff} quantities differ by <= 1 lot")
    return not bad, detail if not bad else f"MISMATCH in {bad}: {detail}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bars", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--skip-backtesting", action="store_true", help="leave out backtesting.py (slow)")
    args = ap.parse_args()
    n = args.bars

    candles = make_candles(n, args.seed)
    target = MovingAverageCross(fast=50, slow=200).signals(candles).to_numpy()
    VENVS.mkdir(parents=True, exist_ok=True)
    data_path = VENVS / f"backtest-data-{n}-{args.seed}.npz"
    np.savez(data_path, time=candles.index.as_unit("ns").asi8, target=target,
             **{c: candles[c].to_numpy() for c in ("open", "high", "low", "close", "volume")},
             initial_cash=INITIAL_CASH, taker_fee=TAKER_FEE, qty_step=QTY_STEP)
    print(f"data: {n} one-minute bars, {int(np.count_nonzero(np.diff(target)))} target changes, {data_path.name}")

    data = prepare(candles)
    warm_before = (best_of(lambda: run_backtest(data, target, FULL), args.repeats),
                   best_of(lambda: run_backtest(data, target, MATCH), args.repeats))

    # --- reference engines in their own venv, on the same file
    ref_py = ensure_ref_venv()
    engines = "vectorbt" if args.skip_backtesting else "vectorbt,backtesting"
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        env = dict(os.environ, TQDM_DISABLE="1")      # no progress bars from backtesting.py
        subprocess.run([str(ref_py), str(REF_SCRIPT), str(data_path), out.name, "--engines", engines],
                       check=True, env=env)
        refs = json.loads(Path(out.name).read_text())

    # --- this engine: cold first calls in fresh processes
    with tempfile.TemporaryDirectory() as empty_cache:
        no_cache = cold_call(data_path, FULL, empty_cache)
    cold_call(data_path, FULL, None)                      # make sure the on-disk cache is filled
    cached = cold_call(data_path, FULL, None)

    # --- this engine: warm
    match = run_backtest(data, target, MATCH)
    warm_match = min(warm_before[1], best_of(lambda: run_backtest(data, target, MATCH), args.repeats))
    full = run_backtest(data, target, FULL)
    warm_full = min(warm_before[0], best_of(lambda: run_backtest(data, target, FULL), args.repeats))
    warm_e2e = best_of(lambda: run_backtest(candles, target, FULL), max(3, args.repeats // 2))
    prep = best_of(lambda: prepare(candles), 3)

    # --- interleaved: one vectorbt run, one run of ours, alternately, so load swings on
    # this shared machine hit both alike; the headline ratio uses these minima
    vbt_inter, ours_inter = interleaved(ref_py, data_path, {
        "records": lambda: run_backtest(data, target, FULL),
        "frame": lambda: run_backtest(data, target, FULL).trades}, args.repeats)

    closed = match.trades[match.trades.exit_reason != "open"].reset_index(drop=True)
    ok_all = True
    print("\nsame trades and final equity (matching config: fees, next-open fills, all-in, 1e-6 lots):")
    for name in ("vectorbt", "backtesting"):
        if name not in refs:
            continue
        ok, detail = compare(closed, match.final_equity, refs[name], candles.index)
        ok_all &= ok
        print(f"  {name:12s} {'OK ' if ok else 'BAD'} {detail}")

    vbt_warm = refs["vectorbt"]["warm_s"]
    rows = [("this engine, full features, prepared data", warm_full),
            ("  + the trades DataFrame built (interleaved best)", ours_inter["frame"]),
            ("this engine, full features, from DataFrame (validate+xxh3)", warm_e2e),
            ("this engine, matching config, prepared data", warm_match),
            ("vectorbt 1.2 (from_signals + trade records), arrays, warm", vbt_warm),
            ("vectorbt 1.2, same call from DatetimeIndex-ed Series, warm", refs["vectorbt"]["warm_pandas_s"])]
    if "backtesting" in refs:
        rows.append(("backtesting.py 0.6 (FractionalBacktest.run)", refs["backtesting"]["warm_s"]))
    print(f"\n{'engine':62s} {'seconds':>9s} {'bars/s':>14s}")
    for label, s in rows:
        print(f"{label:62s} {s:9.4f} {n / s:14,.0f}")
    print(f"\nfull-feature run: {len(full.trades)} trades, exits {full.trades.exit_reason.value_counts().to_dict()}")
    print(f"prepare() alone (validation + xxh3_128 of {n} bars): {prep:.4f} s")
    print(f"cold first call, numba on-disk cache warm: {cached['first_call_s']:.3f} s "
          f"(+ {cached['import_s']:.3f} s to import the app package)")
    print(f"cold first call, empty numba cache (compiles): {no_cache['first_call_s']:.3f} s")
    print(f"vectorbt first call in its process (its own JIT, cache state as installed): "
          f"{refs['vectorbt']['first_call_s']:.3f} s")
    print(f"versions: {refs['versions']}; load average now {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")

    print(f"interleaved ({args.repeats} rounds, best of each): vectorbt {vbt_inter:.4f} s, "
          f"this engine full features {ours_inter['records']:.4f} s (trade records, as vectorbt's), "
          f"{ours_inter['frame']:.4f} s with the trades DataFrame built; "
          f"separate runs: {vbt_warm / warm_full:.1f} x")
    # --- end to end and the floor, alternating round by round
    from app.backtest import engine as E

    o1, c1, t1 = data.open[:, 0], data.close[:, 0], np.ascontiguousarray(target.astype(np.int8))
    bare_loop(o1, c1, t1, TAKER_FEE, INITIAL_CASH)
    inputs = E.kernel_inputs(data, FULL)
    t2 = E._targets(target, data, True)
    chg = E.target_changes(t2)
    parts = {"bare": lambda: bare_loop(o1, c1, t1, TAKER_FEE, INITIAL_CASH),
             "prepared": lambda: run_backtest(data, target, FULL),
             "frame": lambda: run_backtest(candles, target, FULL),
             "kernel": lambda: E.simulate(data, t2, FULL, inputs, chg),
             "kernel_inputs": lambda: E.kernel_inputs(data, FULL),
             "targets+changes": lambda: E.target_changes(E._targets(target, data, True)),
             "prepare": lambda: prepare(candles)}
    best = {k: [] for k in parts}
    for _ in range(args.repeats):
        for k, fn in parts.items():
            t = time.perf_counter()
            fn()
            best[k].append(time.perf_counter() - t)
    best = {k: min(v) for k, v in best.items()}
    wrap = best["prepared"] - best["kernel"] - best["kernel_inputs"] - best["targets+changes"]
    print(f"\nend to end (best of {args.repeats}, alternating): from DataFrame {best['frame'] * 1e3:.2f} ms, "
          f"prepared {best['prepared'] * 1e3:.2f} ms, bare loop {best['bare'] * 1e3:.2f} ms")
    print(f"  where a prepared run's time goes: kernel {best['kernel'] * 1e3:.2f} ms, kernel inputs "
          f"{best['kernel_inputs'] * 1e3:.2f} ms, target checks + changes {best['targets+changes'] * 1e3:.2f} ms, "
          f"result objects (Series, DataFrame, assumptions) {wrap * 1e3:.2f} ms; prepare() "
          f"{best['prepare'] * 1e3:.2f} ms")
    print(f"RESULT trades_match {int(ok_all)} bool")
    print(f"RESULT speedup_vs_vectorbt {vbt_inter / ours_inter['records']:.1f} x")
    print(f"RESULT speedup_vs_vectorbt_with_trades_frame {vbt_inter / ours_inter['frame']:.1f} x")
    print(f"RESULT speedup_vs_vectorbt_matching_config {vbt_inter / warm_match:.1f} x")
    print(f"RESULT speedup_vs_vectorbt_from_pandas {refs['vectorbt']['warm_pandas_s'] / warm_e2e:.1f} x")
    if "backtesting" in refs:
        print(f"RESULT speedup_vs_backtesting_py {refs['backtesting']['warm_s'] / warm_full:.0f} x")
    print(f"RESULT cold_first_call_no_cache_s {no_cache['first_call_s']:.3f} s")
    print(f"RESULT cold_first_call_s {cached['first_call_s']:.3f} s")
    print(f"RESULT end_to_end_over_kernel {best['frame'] / best['prepared']:.2f} x")
    print(f"RESULT ratio_to_bare_loop {best['prepared'] / best['bare']:.2f} x")


if __name__ == "__main__":
    main()
