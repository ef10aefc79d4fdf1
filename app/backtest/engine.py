"""Backtest engine: canonical candles + target positions in, ``BacktestResult`` out.

Execution model (stated once, applied everywhere):

* ``signal[t]`` in {-1, 0, +1} is the target position decided at the
  **close** of bar ``t``; it is executed as a market order at the **open of
  bar t+1**, never at the close of the signal bar. The last signal is never
  executed. NaN targets mean flat (indicator warm-up).
* Market orders pay the taker fee and slippage (price moved against us by the
  slippage fraction). Take-profit exits are limit orders: maker fee, no
  slippage, filled at the take-profit level.
* Stop-loss, trailing stop and take-profit are checked inside every bar a
  position is held (including the entry bar, after the open). When the bar's
  range covers both the stop and the take-profit, the **stop is assumed to
  have hit first** (conservative). The trailing level is set from the best
  price up to the *previous* bar (or the entry fill), never from the bar it is
  checked against.
* Gaps: a bar that opens beyond the stop fills at that **open** (worse than
  the stop price); one that opens beyond the take-profit fills at the open
  (better than the level).
* After a stop or take-profit exit the symbol stays flat until the target
  changes, so a still-standing signal does not re-enter immediately.
* Funding (perpetuals): at every funding timestamp (multiples of
  ``funding_interval_hours`` since the epoch, UTC) crossed while a position is
  held, ``qty * open * funding_rate`` is paid by longs / received by shorts.
* With ``close_at_end`` open positions are closed at the last close (market
  order, costs applied, reason ``end_of_data``) and count as trades; otherwise
  they are reported with reason ``open``, marked to market, and not counted.
* Ruin (``assumptions.RUIN_RULE``): when equity falls to the maintenance
  requirement (zero by default) every position is liquidated at that price and
  the run stops, flat; equity never goes below zero.
* Every result carries ``assumptions`` (``app.backtest.assumptions.stamp``):
  these rules, the close-at-end count, the entry semantics, the annualisation.

Preparation (``prepare``) validates a frame in one compiled pass and hashes it
with xxHash's XXH3-128 (``data_hash = "xxh3_128:<hex>"``): the hash identifies
the data for reproducibility, it is not a security boundary, and XXH3 reads
1M bars in ~6 ms where SHA-256 took ~45 ms; for large inputs it runs on a
thread started by ``prepare`` (xxHash releases the GIL) while the run goes on,
and ``MarketData.data_hash`` joins it. ``prepare(frame, trusted=True)`` skips
the checks for frames validated at the edge.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, partial

import numpy as np
import pandas as pd
import xxhash
from numba import njit

from app.backtest import _kernel
from app.backtest.assumptions import annualisation, stamp
from app.backtest.config import BacktestConfig
from app.marketdata import OHLCV, TIMEFRAMES, check_candle_frame, is_checked

HASH_ALGORITHM = "xxh3_128"

_NO_LOG_CLOSE = np.zeros((1, 1))
TRADE_COLUMNS = ["symbol", "side", "qty", "entry_time", "entry_price", "exit_time", "exit_price",
                 "pnl", "return_pct", "fees", "slippage", "funding", "exit_reason", "bars_held"]


@dataclass(frozen=True, eq=False)
class MarketData:
    """Validated candles as (n, m) float64 arrays, hashed once.

    Build with :func:`prepare`; reuse it across many runs (grid search) to
    skip validation and hashing.
    """

    symbols: tuple[str, ...]
    index: pd.DatetimeIndex
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    bar_seconds: float
    timeframe: str | None
    digest: object               # the data hash, or a pending one (see ``data_hash``)

    @property
    def data_hash(self) -> str:
        """``"xxh3_128:<hex>"`` of the data; computed on a thread started by ``prepare`` while
        the caller goes on (xxHash releases the GIL), joined here on first use."""
        value = self.digest
        if isinstance(value, _PendingDigest):
            value = value.result()
            object.__setattr__(self, "digest", value)
        return value

    def __getstate__(self) -> dict:     # pickling waits for the digest (a thread does not pickle)
        state = dict(self.__dict__)
        state["digest"] = self.data_hash
        return state

    @property
    def n_bars(self) -> int:
        return len(self.index)

    @cached_property
    def log_close(self) -> np.ndarray:
        return np.log(self.close)

    @cached_property
    def times_ns(self) -> np.ndarray:
        return _ns(self.index)

    def frame(self, symbol: str | None = None) -> pd.DataFrame:
        """The canonical candle frame of one symbol (the first by default)."""
        j = 0 if symbol is None else self.symbols.index(symbol)
        cols = {c: getattr(self, c)[:, j] for c in OHLCV}
        return pd.DataFrame(cols, index=self.index)


@dataclass(frozen=True, eq=False)
class BacktestResult:
    """Everything needed to report and to reproduce one run."""

    equity: pd.Series            # mark-to-market equity at each bar close, UTC index
    positions: pd.DataFrame      # side held at each bar close (-1/0/+1 int8), one column per symbol
    # the trades (``trades``), or a function building them on first access: the
    # engine keeps its kernel's trade records and makes the DataFrame when asked
    trades_data: pd.DataFrame | Callable[[], pd.DataFrame] = field(repr=False)
    config: dict                 # BacktestConfig.to_dict(): costs stamped
    symbols: tuple[str, ...]
    timeframe: str | None
    bar_seconds: float
    start: pd.Timestamp
    end: pd.Timestamp
    n_bars: int
    data_hash: str               # "xxh3_128:<hex>" of the index, symbols and OHLCV bytes
    strategy: dict = field(default_factory=dict)   # {"name": ..., "params": {...}} when known
    assumptions: dict = field(default_factory=dict)  # assumptions.stamp(): rules this result was made under
    ruin: dict | None = None     # {"time", "bar", "shortfall"} when the account was liquidated

    @property
    def trades(self) -> pd.DataFrame:
        """One row per trade, columns ``TRADE_COLUMNS`` (built once, on first access)."""
        data = self.trades_data
        if not isinstance(data, pd.DataFrame):
            data = data()
            object.__setattr__(self, "trades_data", data)
        return data

    @property
    def initial_cash(self) -> float:
        return float(self.config["initial_cash"])

    @property
    def final_equity(self) -> float:
        return float(self.equity.iloc[-1])


@njit(cache=True, nogil=True, error_model="numpy")
def _increasing(ns):
    """True when every time is after the previous one (a branch-free count, vectorised)."""
    bad = 0
    for i in range(1, ns.shape[0]):
        bad += ns[i] <= ns[i - 1]
    return bad == 0


def _all_good(ns, *prices) -> bool:
    """Times strictly increasing, prices positive and finite: numpy's SIMD min/max per column
    (NaN propagates, so it fails ``min > 0``); ``_first_bad`` finds the row only when this fails."""
    return bool(_increasing(ns)) and all(np.min(x) > 0.0 and np.max(x) < np.inf for x in prices)


@njit(cache=True, nogil=True)
def _first_bad(ns, o, h, lo, c):
    """First row whose time does not increase or whose open/high/low/close is not a
    positive finite number, or -1: one pass over the arrays (NaN fails ``0 < v``)."""
    inf = np.inf
    for i in range(ns.shape[0]):
        if i > 0 and ns[i] <= ns[i - 1]:
            return i
        if not (0.0 < o[i] < inf and 0.0 < h[i] < inf and 0.0 < lo[i] < inf and 0.0 < c[i] < inf):
            return i
    return -1


def _columns(candles: pd.DataFrame, name: str, trusted: bool) -> tuple[np.ndarray, list[np.ndarray]]:
    """Epoch-ns times and the OHLCV columns as float64 arrays (views when the frame holds float64)."""
    if not trusted:
        check_candle_frame(candles, f"{name}: candles")
    idx = candles.index
    if len(idx) < 2:
        raise ValueError(f"{name}: need at least 2 bars, got {len(idx)}")
    ns = np.ascontiguousarray(_ns(idx))
    cols = [np.ascontiguousarray(candles[c].to_numpy(dtype=np.float64)) for c in OHLCV]
    if not trusted and not _all_good(ns, *cols[:4]):
        bad = _first_bad(ns, *cols[:4])
        if bad >= 0:
            row = np.array([col[bad] for col in cols[:4]])
            if bad > 0 and ns[bad] <= ns[bad - 1]:
                raise ValueError(f"{name}: the index must be strictly increasing (row {bad}, {idx[bad]})")
            if not np.isfinite(row).all():
                raise ValueError(f"{name}: open/high/low/close contain NaN or infinite values (row {bad}, {idx[bad]})")
            raise ValueError(f"{name}: prices must be positive (row {bad}, {idx[bad]})")
    return ns, cols


def _ns(index: pd.DatetimeIndex) -> np.ndarray:
    """Epoch nanoseconds whatever the index's resolution (pandas 3 may use s/ms/us)."""
    factor = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[index.unit]
    return index.asi8 * factor if factor != 1 else index.asi8


def _infer_timeframe(ns: np.ndarray) -> tuple[float, str | None]:
    first = int(ns[1] - ns[0])
    if int(ns[-1] - ns[0]) == first * (len(ns) - 1) and (len(ns) < 3 or int(ns[2] - ns[1]) == first):
        step = first / 1e9            # regular grid: no need for the median
    else:
        step = float(np.median(np.diff(ns))) / 1e9
    for name, delta in TIMEFRAMES.items():
        if abs(delta.total_seconds() - step) < 1e-6:
            return step, name
    return step, None


class _PendingDigest:
    """``data_digest`` running on its own thread (started per call: nothing to carry across a fork)."""

    def __init__(self, *args) -> None:
        self._value: str | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=args, name="data-digest", daemon=True)
        self._thread.start()

    def _run(self, *args) -> None:
        try:
            self._value = data_digest(*args)
        except BaseException as exc:       # re-raised in the caller's thread by result()
            self._error = exc

    def result(self) -> str:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


# inputs below this many bytes are hashed inline (a thread costs more than it saves)
BACKGROUND_HASH_BYTES = 4 << 20


def data_digest(ns: np.ndarray, symbols, columns) -> str:
    """``"xxh3_128:<hex>"`` of the times, then per symbol its name and OHLCV columns."""
    digest = xxhash.xxh3_128()
    digest.update(np.ascontiguousarray(ns))
    for s, cols in zip(symbols, columns):
        digest.update(s.encode())
        for col in cols:
            digest.update(np.ascontiguousarray(col))
    return f"{HASH_ALGORITHM}:{digest.hexdigest()}"


def prepare(candles: pd.DataFrame | Mapping[str, pd.DataFrame], symbol: str | None = None, *,
            trusted: bool = False) -> MarketData:
    """Validate and convert one candle frame, or ``{symbol: frame}`` for a portfolio.

    A single frame is named ``symbol``, else its ``attrs["symbol"]`` (kept by pandas through
    slicing), else ``"ASSET"``. Portfolio frames are aligned on the timestamps they all share.

    ``trusted=True``: the frames were validated at the edge (canonical columns, tz-aware UTC
    index strictly increasing, positive finite prices); the checks are skipped.
    A single float64 frame is not copied: the arrays are views of its columns, so a frame
    changed in place afterwards changes the prepared data too (copy it first if you must).
    """
    if not isinstance(candles, Mapping):
        symbol = symbol or getattr(candles, "attrs", {}).get("symbol") or "ASSET"
    frames = dict(candles) if isinstance(candles, Mapping) else {symbol: candles}
    if not frames:
        raise ValueError("no candles given")
    # frames checked where they entered the system (app.marketdata.CheckedCandles) are not checked again
    trusted = trusted or all(is_checked(f) for f in frames.values())
    if len(frames) == 1:
        (name, frame), = frames.items()
        ns, cols = _columns(frame, name, trusted)
        index = frame.index.rename("time")
        arrays = [col.reshape(-1, 1) for col in cols]
        digest = (_PendingDigest(ns, [name], [cols]) if ns.nbytes * 6 >= BACKGROUND_HASH_BYTES
                  else data_digest(ns, [name], [cols]))
    else:
        if not trusted:
            for s, f in frames.items():
                _columns(f, s, False)
        index = None
        for f in frames.values():
            index = f.index if index is None else index.intersection(f.index)
        if len(index) < 2:
            raise ValueError("the symbols share fewer than 2 timestamps")
        index = index.rename("time")
        arrays = [np.empty((len(index), len(frames))) for _ in OHLCV]
        for j, f in enumerate(frames.values()):
            if len(f.index) != len(index):
                f = f.loc[index]
            for a, c in zip(arrays, OHLCV):
                a[:, j] = f[c].to_numpy(dtype=np.float64)
        ns = np.ascontiguousarray(_ns(index))
        digest = data_digest(ns, list(frames), [[a[:, j] for a in arrays] for j in range(len(frames))])
    bar_seconds, timeframe = _infer_timeframe(ns)
    data = MarketData(tuple(frames), index, *arrays, bar_seconds=bar_seconds, timeframe=timeframe,
                      digest=digest)
    data.__dict__["times_ns"] = ns      # fill the cached property
    return data


def _targets(signal, data: MarketData, allow_short: bool) -> np.ndarray:
    n, m = data.n_bars, len(data.symbols)
    if isinstance(signal, Mapping):
        signal = pd.DataFrame(dict(signal))
    if isinstance(signal, (pd.Series, pd.DataFrame)):
        if isinstance(signal.index, pd.DatetimeIndex) and not signal.index.equals(data.index):
            if not data.index.isin(signal.index).all():
                raise ValueError("the signal index does not cover every candle timestamp")
            signal = signal.loc[data.index]
        if isinstance(signal, pd.DataFrame):
            cols = [c for c in data.symbols if c in signal.columns]
            signal = signal[cols] if len(cols) == m else signal
        signal = signal.to_numpy()
    arr = np.asarray(signal)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.shape != (n, m):
        raise ValueError(f"signal shape {arr.shape} does not match {n} bars x {m} symbols")
    if arr.dtype.kind in "iub":       # integer targets: a range check is enough
        if arr.min() < -1 or arr.max() > 1:
            raise ValueError("signal values must be -1, 0 or +1 (target position)")
    else:
        arr = np.nan_to_num(arr.astype(np.float64), nan=0.0)
        if not np.isin(arr, (-1.0, 0.0, 1.0)).all():
            raise ValueError("signal values must be -1, 0 or +1 (target position)")
    out = arr.astype(np.int8, copy=False)
    if not allow_short and out.min() < 0:
        out = np.maximum(out, 0)
    return np.ascontiguousarray(out)


def _slippage(data: MarketData, config: BacktestConfig) -> np.ndarray:
    c = config.costs
    base = c.slippage_bps / 1e4
    cap = c.max_slippage_bps / 1e4
    if c.slippage_model == "fixed":
        return np.full((1, len(data.symbols)), base)   # one row: same for every bar
    if c.slippage_model == "range":
        rng = (data.high - data.low) / data.open
        prev = np.vstack([np.zeros((1, rng.shape[1])), rng[:-1]])
        return np.minimum(base + c.range_factor * prev, max(cap, base))
    vol = pd.DataFrame(data.volume)
    med = vol.rolling(100, min_periods=1).median().shift(1).to_numpy()
    prev = vol.shift(1).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.sqrt(med / prev)
    ratio = np.where(np.isfinite(ratio), ratio, np.where(prev > 0, 1.0, np.inf))
    return np.ascontiguousarray(np.clip(base * ratio, base, max(cap, base)))


def _weights(data: MarketData, config: BacktestConfig) -> np.ndarray:
    value = config.cash_per_trade if config.sizing == "fixed_cash" else config.fraction
    return np.full((1, len(data.symbols)), float(value))   # one row: same for every bar


_NO_FUNDING = (np.zeros(0, dtype=np.int64), np.zeros(0))


def _funding(data: MarketData, config: BacktestConfig) -> tuple[np.ndarray, np.ndarray]:
    rate = config.costs.funding_rate
    if rate == 0.0:
        return _NO_FUNDING
    interval = config.costs.funding_interval_hours * 3600 * 10**9
    cache = data.__dict__.setdefault("_funding_counts", {})   # per interval, reused across runs
    if interval not in cache:
        cache[interval] = _kernel.funding_events(data.times_ns, interval, 1.0)
    bars, counts = cache[interval]
    return bars, counts * float(rate)


def target_changes(target: np.ndarray) -> tuple[np.ndarray, int]:
    """Rows i >= 1 where any symbol's target changes, and the number of (row, symbol)
    changes: every entry needs one (a stop-out waits for the next), so it bounds the trades."""
    diff = target[1:] != target[:-1]
    if diff.shape[1] == 1:
        rows = np.flatnonzero(diff[:, 0])
        return rows + 1, len(rows)
    return np.flatnonzero(diff.any(axis=1)) + 1, int(np.count_nonzero(diff))


def kernel_inputs(data: MarketData, config: BacktestConfig) -> tuple:
    """Everything ``_kernel.simulate`` takes besides the targets: computed once per (data, config),
    shared by the runs of a grid."""
    nan = float("nan")
    vol_mode = config.sizing == "vol_target"
    size_mode = {"fixed_fraction": _kernel.SIZE_EQUITY_FRACTION, "fixed_cash": _kernel.SIZE_FIXED_CASH,
                 "vol_target": _kernel.SIZE_VOL_TARGET}[config.sizing]
    ppy = annualisation(config.periods_per_year, data.bar_seconds)["periods_per_year"]
    head = (data.open, data.high, data.low, data.close)
    middle = (_slippage(data, config), _weights(data, config), *_funding(data, config), size_mode,
              float(config.costs.taker_fee), float(config.costs.maker_fee),
              nan if config.stop_loss is None else float(config.stop_loss),
              nan if config.take_profit is None else float(config.take_profit),
              nan if config.trailing_stop is None else float(config.trailing_stop),
              float(config.initial_cash), float(config.qty_step), bool(config.close_at_end),
              data.log_close if vol_mode else _NO_LOG_CLOSE, int(config.vol_lookback),
              float(np.sqrt(ppy)), float(config.target_vol))
    return head, middle, float(config.maintenance_margin)


def simulate(data: MarketData, target: np.ndarray, config: BacktestConfig, inputs: tuple,
             changes: tuple[np.ndarray, int] | None = None, out: tuple[np.ndarray, np.ndarray] | None = None
             ) -> tuple:
    """The kernel's raw outputs for (n, m) int8 ``target`` (see ``_kernel.simulate``); ``out``:
    the (equity, positions) buffers to fill, new ones by default."""
    head, middle, mm = inputs
    if out is None:
        out = (np.empty(data.n_bars), np.empty((data.n_bars, len(data.symbols)), dtype=np.int8))
    return _kernel.simulate(*head, target, *middle, *(changes or target_changes(target)), mm, *out)


def run_backtest(candles: pd.DataFrame | Mapping[str, pd.DataFrame] | MarketData, signal,
                 config: BacktestConfig | None = None, *, strategy: dict | None = None) -> BacktestResult:
    """Simulate trading ``signal`` (target positions) on ``candles``.

    ``candles``: a canonical frame, ``{symbol: frame}`` for a portfolio with
    shared cash, or a :class:`MarketData` from :func:`prepare`.
    ``signal``: array/Series of length n for one symbol, (n, m) array or
    DataFrame/dict keyed by symbol for a portfolio.
    """
    config = config or BacktestConfig()
    if not isinstance(config, BacktestConfig):
        raise ValueError(f"config must be a BacktestConfig, got {type(config).__name__}")
    data = candles if isinstance(candles, MarketData) else prepare(candles)
    target = _targets(signal, data, config.allow_short)
    equity, positions, rec, n_trades, ruin_i, shortfall = simulate(data, target, config, kernel_inputs(data, config))
    if n_trades != len(rec):
        raise RuntimeError(f"internal error: {n_trades} trades for a buffer of {len(rec)}")
    cfg = config.to_dict()
    if cfg["timeframe"] is None:
        cfg["timeframe"] = data.timeframe
    ruin = None if ruin_i < 0 else {"time": data.index[ruin_i].isoformat(), "bar": int(ruin_i),
                                    "shortfall": float(shortfall)}
    reasons = rec[:, _kernel.R_REASON]
    assumptions = stamp(cfg, strategy, data.bar_seconds, closed_at_end=int(np.count_nonzero(reasons == 4.0)),
                        left_open=int(np.count_nonzero(reasons == 5.0)), ruin=ruin)
    return BacktestResult(
        equity=pd.Series(equity, index=data.index, name="equity", copy=False),
        positions=pd.DataFrame(positions, index=data.index, columns=_symbol_columns(data), copy=False),
        trades_data=partial(_trades_frame, rec, data.index, _symbol_dtype(data)),
        config=cfg, symbols=data.symbols, timeframe=cfg["timeframe"], bar_seconds=data.bar_seconds,
        start=data.index[0], end=data.index[-1], n_bars=data.n_bars, data_hash=data.data_hash,
        strategy=dict(strategy or {}), assumptions=assumptions, ruin=ruin)


_SIDE_DTYPE = pd.CategoricalDtype(["long", "short"])
_REASON_DTYPE = pd.CategoricalDtype(list(_kernel.REASONS))


def _symbol_dtype(data: MarketData) -> pd.CategoricalDtype:
    dtype = data.__dict__.get("_symbol_dtype")
    if dtype is None:     # built once per MarketData (validating categories is not free)
        dtype = data.__dict__["_symbol_dtype"] = pd.CategoricalDtype(list(data.symbols))
    return dtype


def _symbol_columns(data: MarketData) -> pd.Index:
    columns = data.__dict__.get("_symbol_columns")
    if columns is None:   # an Index of strings costs ~0.1 ms to build; once per MarketData
        columns = data.__dict__["_symbol_columns"] = pd.Index(list(data.symbols))
    return columns


def _trades_frame(rec: np.ndarray, index: pd.DatetimeIndex, symbol_dtype: pd.CategoricalDtype) -> pd.DataFrame:
    """The trades DataFrame from the kernel's records (see ``BacktestResult.trades``)."""
    K = _kernel
    entry_i = rec[:, K.R_ENTRY_I].astype(np.int64)
    exit_i = rec[:, K.R_EXIT_I].astype(np.int64)
    qty = rec[:, K.R_QTY]
    entry_px = rec[:, K.R_ENTRY_PX]
    pnl = rec[:, K.R_PNL]

    def codes(col, dtype):   # the kernel writes valid codes; cached dtypes skip re-validation
        return pd.Categorical.from_codes(col.astype(np.int8), dtype=dtype, validate=False)

    frame = pd.DataFrame({
        "symbol": codes(rec[:, K.R_SYM], symbol_dtype),
        "side": codes(rec[:, K.R_SIDE] < 0, _SIDE_DTYPE),
        "qty": qty,
        "entry_time": index.take(entry_i),
        "entry_price": entry_px,
        "exit_time": index.take(exit_i),
        "exit_price": rec[:, K.R_EXIT_PX],
        "pnl": pnl,
        "return_pct": 100.0 * pnl / (qty * entry_px),
        "fees": rec[:, K.R_ENTRY_FEE] + rec[:, K.R_EXIT_FEE],
        "slippage": rec[:, K.R_SLIP],
        "funding": rec[:, K.R_FUNDING],
        "exit_reason": codes(rec[:, K.R_REASON], _REASON_DTYPE),
        "bars_held": exit_i - entry_i,
    }, copy=False)   # dict order is TRADE_COLUMNS
    if len(symbol_dtype.categories) > 1 or not (np.diff(entry_i) >= 0).all():
        order = np.lexsort((rec[:, K.R_SYM], entry_i))
        frame = frame.take(order).reset_index(drop=True)
    return frame


def warm_up() -> float:
    """Compile (or load from numba's on-disk cache) the engine kernels on a tiny
    series so the first real backtest in a worker does not pay for it.
    Returns the seconds it took."""
    import time

    start = time.perf_counter()
    idx = pd.date_range("2024-01-01", periods=8, freq="1h", tz="UTC", name="time")
    prices = np.array([100.0, 101.0, 99.0, 102.0, 98.0, 103.0, 97.0, 104.0])
    candles = pd.DataFrame({"open": prices, "high": prices * 1.01, "low": prices * 0.99, "close": prices,
                            "volume": np.ones(8)}, index=idx)
    from app.backtest.config import Costs

    config = BacktestConfig(sizing="vol_target", vol_lookback=2, stop_loss=0.5, take_profit=0.5,
                            trailing_stop=0.5, costs=Costs(funding_rate=0.0001))
    run_backtest(candles, np.array([1, 1, -1, -1, 0, 1, 1, 0], dtype=np.int8), config)
    run_backtest(candles.copy(), np.array([1, 1, -1, -1, 0, 1, 1, 0], dtype=np.int8), BacktestConfig())
    return time.perf_counter() - start
