"""Reference engines for ``bench/backtest.py``; runs inside the benchmark venv.

Usage (driven by bench/backtest.py, not by hand):
    bench/.venvs/backtest-ref/bin/python bench/backtest_refs.py DATA.npz OUT.json [--engines vectorbt,backtesting]
    bench/.venvs/backtest-ref/bin/python bench/backtest_refs.py --serve-vectorbt DATA.npz   # interleaved timing
    bench/.venvs/backtest-ref/bin/python bench/backtest_refs.py --serve-vectorbt-grid DATA.npz TARGETS.npy OUT.json

Reads the shared data file (bar open times, OHLC, the SMA-crossover target
positions already computed at each bar's close, costs) and runs the same
trading rules — fill at the next bar's open, all-in sizing with the fee
included, lot size ``qty_step`` — in vectorbt and in backtesting.py. Writes
their trades, final equity and timings as JSON.
"""
from __future__ import annotations

import json
import sys
import time
import warnings

import numpy as np
import pandas as pd


def load(path):
    z = np.load(path)
    return {k: z[k] for k in z.files}


def trades_out(entry_i, exit_i, entry_px, exit_px, size, pnl, is_long):
    return {"entry_i": [int(x) for x in entry_i], "exit_i": [int(x) for x in exit_i],
            "entry_price": [float(x) for x in entry_px], "exit_price": [float(x) for x in exit_px],
            "qty": [float(abs(x)) for x in size], "pnl": [float(x) for x in pnl],
            "long": [bool(x) for x in is_long]}


def run_vectorbt(d, repeats=7):
    import vectorbt as vbt

    target = d["target"].astype(np.int64)
    prev = np.r_[0, target[:-1]]               # decided at close t-1, executed at open t
    entries, short_entries, flat = prev == 1, prev == -1, prev == 0
    fee, step = float(d["taker_fee"]), float(d["qty_step"])
    close, open_ = d["close"], d["open"]   # plain arrays: vectorbt's fastest path (a
    # DatetimeIndex-ed Series costs it ~1 s more per call on 1M bars)

    def once():
        return vbt.Portfolio.from_signals(
            close, entries=entries, exits=flat, short_entries=short_entries, short_exits=flat,
            price=open_, size=np.inf, size_granularity=step, lock_cash=True, fees=fee,
            init_cash=float(d["initial_cash"]), freq="1min")

    t = time.perf_counter()
    pf = once()
    recs = pf.trades.records
    first = time.perf_counter() - t
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        pf = once()
        recs = pf.trades.records      # trade records built, as in our engine
        final = float(pf.final_value())
        times.append(time.perf_counter() - t)
    # the same call from DatetimeIndex-ed Series (what a caller holding a candle frame passes)
    index = pd.to_datetime(d["time"], utc=True)
    close_s, open_s = pd.Series(close, index=index), pd.Series(open_, index=index)
    pandas_times = []
    for _ in range(3):
        t = time.perf_counter()
        vbt.Portfolio.from_signals(
            close_s, entries=entries, exits=flat, short_entries=short_entries, short_exits=flat,
            price=open_s, size=np.inf, size_granularity=step, lock_cash=True, fees=fee,
            init_cash=float(d["initial_cash"]), freq="1min").trades.records
        pandas_times.append(time.perf_counter() - t)
    closed = recs[recs["status"] == 1]
    return {"first_call_s": first, "warm_s": min(times), "warm_pandas_s": min(pandas_times), "final_equity": final,
            "trades": trades_out(closed["entry_idx"], closed["exit_idx"], closed["entry_price"],
                                 closed["exit_price"], closed["size"], closed["pnl"], closed["direction"] == 0)}


def run_backtesting(d):
    from backtesting import Strategy
    from backtesting.lib import FractionalBacktest

    index = pd.to_datetime(d["time"], utc=True).tz_localize(None)
    df = pd.DataFrame({"Open": d["open"], "High": d["high"], "Low": d["low"], "Close": d["close"],
                       "Volume": np.ones(len(index)), "Target": d["target"].astype(float)}, index=index)

    class Precomputed(Strategy):
        def init(self):
            self.target = self.I(lambda: self.data.Target, plot=False)

        def next(self):
            t = self.target[-1]
            if t > 0 and not self.position.is_long:
                self.buy()
            elif t < 0 and not self.position.is_short:
                self.sell()
            elif t == 0 and self.position:
                self.position.close()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = FractionalBacktest(df, Precomputed, cash=float(d["initial_cash"]),
                                commission=float(d["taker_fee"]), exclusive_orders=True,
                                fractional_unit=float(d["qty_step"]))
        t = time.perf_counter()
        stats = bt.run()
        elapsed = time.perf_counter() - t
    tr = stats["_trades"]
    return {"warm_s": elapsed, "final_equity": float(stats["Equity Final [$]"]),
            "trades": trades_out(tr["EntryBar"], tr["ExitBar"], tr["EntryPrice"], tr["ExitPrice"],
                                 tr["Size"], tr["PnL"], tr["Size"] > 0)}


def serve_vectorbt(data_path):
    """Interleaved timing: after warming up, time one vectorbt run per line read
    on stdin and print the seconds, so the driver can alternate engines."""
    import vectorbt as vbt

    d = load(data_path)
    target = d["target"].astype(np.int64)
    prev = np.r_[0, target[:-1]]
    entries, short_entries, flat = prev == 1, prev == -1, prev == 0

    def once():
        pf = vbt.Portfolio.from_signals(
            d["close"], entries=entries, exits=flat, short_entries=short_entries, short_exits=flat,
            price=d["open"], size=np.inf, size_granularity=float(d["qty_step"]), lock_cash=True,
            fees=float(d["taker_fee"]), init_cash=float(d["initial_cash"]), freq="1min")
        return pf.trades.records, pf.final_value()

    once()
    print("ready", flush=True)
    for _ in sys.stdin:
        t = time.perf_counter()
        once()
        print(time.perf_counter() - t, flush=True)


def serve_vectorbt_grid(data_path, targets_path, out_path):
    """The grid bench (bench/backtest_grid.py): every column of TARGETS.npy (n, k) int8 is one
    parameter set; one broadcasted ``Portfolio.from_signals`` call per timed round (a line on
    stdin), with trade records and final values; writes per-column trade counts and final
    equity to OUT.json at the end."""
    import vectorbt as vbt

    d = load(data_path)
    target = np.load(targets_path)
    prev = np.vstack([np.zeros((1, target.shape[1]), dtype=target.dtype), target[:-1]])
    entries, short_entries, flat = prev == 1, prev == -1, prev == 0
    close = d["close"][:, None]
    open_ = d["open"][:, None]

    def once():
        pf = vbt.Portfolio.from_signals(
            close, entries=entries, exits=flat, short_entries=short_entries, short_exits=flat,
            price=open_, size=np.inf, size_granularity=float(d["qty_step"]), lock_cash=True,
            fees=float(d["taker_fee"]), init_cash=float(d["initial_cash"]), freq="1min")
        recs = pf.trades.records
        return recs, np.asarray(pf.final_value())

    once()
    print("ready", flush=True)
    recs = finals = None
    for _ in sys.stdin:
        t = time.perf_counter()
        recs, finals = once()
        print(time.perf_counter() - t, flush=True)
    counts = np.bincount(recs["col"], minlength=target.shape[1])
    with open(out_path, "w") as fh:
        json.dump({"n_trades": [int(x) for x in counts], "final_equity": [float(x) for x in finals]}, fh)


def main(argv):
    if argv[0] == "--serve-vectorbt":
        return serve_vectorbt(argv[1])
    if argv[0] == "--serve-vectorbt-grid":
        return serve_vectorbt_grid(argv[1], argv[2], argv[3])
    data_path, out_path = argv[0], argv[1]
    engines = ["vectorbt", "backtesting"]
    if len(argv) > 3 and argv[2] == "--engines":
        engines = argv[3].split(",")
    d = load(data_path)
    out = {"versions": {}}
    if "vectorbt" in engines:
        import numba
        import vectorbt

        out["versions"].update(vectorbt=vectorbt.__version__, numba_ref=numba.__version__)
        out["vectorbt"] = run_vectorbt(d)
    if "backtesting" in engines:
        import backtesting

        out["versions"]["backtesting"] = backtesting.__version__
        out["backtesting"] = run_backtesting(d)
    with open(out_path, "w") as fh:
        json.dump(out, fh)


if __name__ == "__main__":
    main(sys.argv[1:])
