"""Technical indicators for one candle frame.

Public API
----------
``compute_indicators(candles, timeframe, *, last=None, engine="talib") -> DataFrame``
    One call, every indicator column below, indexed like ``candles``.
    ``engine="talib"`` (default, the refresh hot path) calls TA-Lib's C kernels
    directly on numpy arrays; ``engine="pandas_ta"`` goes through pandas-ta's
    per-call API (which itself dispatches to the same TA-Lib kernels when
    ``talib`` is installed).  Both are tested to give the same numbers.
``sma``, ``ema``, ``rsi``, ``macd``, ``bollinger``, ``atr``, ``session_vwap``
    The kernels on numpy arrays, also used by the Market chart's studies (any SMA/EMA period).
``validate_candles(candles) -> DataFrame``
    Checks the canonical candle frame and raises ``ValueError`` otherwise.
``WARMUP_BARS``, ``INDICATOR_COLUMNS``, ``INTRADAY_TIMEFRAMES``

Columns and conventions (checked against the textbook definitions)
------------------------------------------------------------------
``sma_20/50/200``  simple moving averages of close.
``ema_20/50/200``  alpha = 2/(n+1), seeded with the SMA of the first n closes
                   (TA-Lib's and the common textbook seed).
``rsi_14``         Wilder's RSI: average gain/loss smoothed with alpha = 1/n,
                   seeded with the plain mean of the first n changes.
``macd, macd_signal, macd_hist``  12/26/9 EMAs.  TA-Lib (hence pandas-ta)
                   starts the fast EMA at the slow EMA's first bar, so the
                   first ~100 values differ slightly from EMA12-EMA26 computed
                   separately; they converge geometrically (identical to 1e-10
                   after a few hundred bars).
``bb_lower, bb_mid, bb_upper, bb_bandwidth, bb_percent``  Bollinger Bands
                   20, 2: SMA20 +/- 2 * the *population* standard deviation
                   (ddof=0), as John Bollinger defines them and TA-Lib computes
                   them.  Note pandas' ``rolling().std()`` default is the
                   *sample* deviation (ddof=1), which is sqrt(20/19) = 2.6 %
                   wider.  bandwidth = 100 * (upper - lower) / mid;
                   percent (%B) = (close - lower) / (upper - lower).
``atr_14``         Wilder's ATR: true range smoothed with alpha = 1/n, seeded
                   with the mean of the first n true ranges (bar 0 has no
                   previous close, so the first ATR is at bar n).
``adx_14, plus_di_14, minus_di_14``  Wilder's DMI/ADX (TA-Lib).  pandas-ta's
                   ``adx`` with TA-Lib returns the smoothed *movements*
                   (PLUS_DM/MINUS_DM) under the names DMP/DMN, not the
                   indicators +DI/-DI; we return +DI/-DI (0..100).
``stoch_k, stoch_d``  slow stochastic 14/3/3: raw %K over 14 bars, %K = SMA3
                   of raw %K, %D = SMA3 of %K.
``obv``            on-balance volume, cumulative from the first bar of the
                   frame (TA-Lib starts at +volume[0]).  Its *level* depends
                   on where the frame starts; only its changes are
                   meaningful, and only changes are used for scoring.
``vwap``           session VWAP of the typical price (h+l+c)/3, anchored at
                   00:00 UTC, for intraday timeframes (1m..4h); NaN on 1d.
``volume_z``       (volume - mean) / std over the *previous* 20 bars (the
                   current bar is excluded so a spike does not dilute its own
                   z-score), population std; NaN where std is 0.

Bounded tail (how a refresh stays cheap)
----------------------------------------
EMA/RSI/ATR/ADX are recursive, so values depend (ever less) on where the
series starts.  ``last=N`` computes over the last ``N + WARMUP_BARS`` bars
(extended back to the 00:00 UTC session start so VWAP is exact) and returns
the last ``N`` rows.  The slowest recursion is EMA200 (alpha = 2/201): after
``WARMUP_BARS = 2000`` bars a seed error has shrunk by (1 - 2/201)^2000 =
2e-9, so every column agrees with a full recompute to a relative tolerance
of 1e-8 (of the column's scale); SMA, Bollinger, stochastic, VWAP and the
volume z-score agree exactly up to float rounding.  ``obv`` differs by a
constant (its anchor); its differences agree.  This is tested in
``tests/unit/analysis/test_indicators.py``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import talib

from app.marketdata import OHLCV, TIMEFRAMES, check_candle_frame, is_checked

WARMUP_BARS = 2000
INTRADAY_TIMEFRAMES = frozenset(tf for tf, d in TIMEFRAMES.items() if d.total_seconds() < 86400)
MA_LENGTHS = (20, 50, 200)
RSI_LEN, ATR_LEN, ADX_LEN = 14, 14, 14
MACD_FAST, MACD_SLOW, MACD_SIGNAL = 12, 26, 9
BB_LEN, BB_STD = 20, 2.0
STOCH_K, STOCH_SMOOTH, STOCH_D = 14, 3, 3
VOLUME_Z_LEN = 20

INDICATOR_COLUMNS = (
    [f"sma_{n}" for n in MA_LENGTHS]
    + [f"ema_{n}" for n in MA_LENGTHS]
    + ["rsi_14", "macd", "macd_signal", "macd_hist",
       "bb_lower", "bb_mid", "bb_upper", "bb_bandwidth", "bb_percent",
       "atr_14", "adx_14", "plus_di_14", "minus_di_14", "stoch_k", "stoch_d",
       "obv", "vwap", "volume_z"]
)
_NS_PER_DAY = 86_400 * 10**9


def validate_candles(candles: pd.DataFrame) -> pd.DataFrame:
    """Return ``candles`` if it is a canonical candle frame, else ``ValueError`` (checked frames pass as they are)."""
    if is_checked(candles):
        return candles
    return check_candle_frame(candles, "candles", ordered=True)


def validate_timeframe(timeframe: str) -> str:
    if timeframe not in TIMEFRAMES:
        raise ValueError(f"unknown timeframe {timeframe!r}; expected one of {', '.join(TIMEFRAMES)}")
    return timeframe


def ohlcv_arrays(candles: pd.DataFrame) -> tuple[np.ndarray, ...]:
    """open, high, low, close, volume as contiguous float64 arrays."""
    frame = candles if list(candles.columns) == OHLCV else candles[OHLCV]
    block = np.ascontiguousarray(frame.to_numpy(dtype=np.float64).T)
    if not is_checked(candles) and not np.isfinite(block).all():
        raise ValueError("candles contain NaN or infinite prices/volumes; clean or drop those bars first")
    return tuple(block)


def session_vwap(high, low, close, volume, times_ns: np.ndarray) -> np.ndarray:
    """VWAP of (h+l+c)/3 reset at every 00:00 UTC, for numpy arrays."""
    tp = (high + low + close) / 3.0
    day = times_ns // _NS_PER_DAY
    new = np.empty(len(day), dtype=bool)
    if len(day):
        new[0] = True
        new[1:] = day[1:] != day[:-1]
    start = np.maximum.accumulate(np.where(new, np.arange(len(day)), 0))
    cpv = np.concatenate(([0.0], np.cumsum(tp * volume)))
    cv = np.concatenate(([0.0], np.cumsum(volume)))
    pos = np.arange(1, len(day) + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (cpv[pos] - cpv[start]) / (cv[pos] - cv[start])


def sma(close: np.ndarray, period: int) -> np.ndarray:
    """Simple moving average of ``close`` over ``period`` bars (NaN for the first period - 1)."""
    return talib.SMA(close, int(period))


def ema(close: np.ndarray, period: int) -> np.ndarray:
    """EMA with alpha = 2/(period+1), seeded with the SMA of the first ``period`` closes."""
    return talib.EMA(close, int(period))


def rsi(close: np.ndarray, period: int = RSI_LEN) -> np.ndarray:
    """Wilder's RSI."""
    return talib.RSI(close, int(period))


def macd(close: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MACD 12/26/9: (line, signal, histogram)."""
    return talib.MACD(close, MACD_FAST, MACD_SLOW, MACD_SIGNAL)


def bollinger(close: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bollinger Bands 20, 2 (population deviation): (lower, mid, upper)."""
    up, mid, lo = talib.BBANDS(close, BB_LEN, BB_STD, BB_STD, 0)
    return lo, mid, up


def atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int = ATR_LEN) -> np.ndarray:
    """Wilder's average true range."""
    return talib.ATR(high, low, close, int(period))


def _talib_arrays(o, h, l, c, v, times_ns, intraday: bool) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for n in MA_LENGTHS:
        out[f"sma_{n}"] = sma(c, n)
    for n in MA_LENGTHS:
        out[f"ema_{n}"] = ema(c, n)
    out["rsi_14"] = rsi(c, RSI_LEN)
    out["macd"], out["macd_signal"], out["macd_hist"] = macd(c)
    lo, mid, up = bollinger(c)
    out["bb_lower"], out["bb_mid"], out["bb_upper"] = lo, mid, up
    rng = up - lo
    with np.errstate(invalid="ignore", divide="ignore"):
        out["bb_bandwidth"] = 100.0 * rng / mid
        out["bb_percent"] = np.where(rng != 0, (c - lo) / rng, np.nan)
    out["atr_14"] = atr(h, l, c, ATR_LEN)
    out["adx_14"] = talib.ADX(h, l, c, ADX_LEN)
    out["plus_di_14"] = talib.PLUS_DI(h, l, c, ADX_LEN)
    out["minus_di_14"] = talib.MINUS_DI(h, l, c, ADX_LEN)
    out["stoch_k"], out["stoch_d"] = talib.STOCH(h, l, c, STOCH_K, STOCH_SMOOTH, 0, STOCH_D, 0)
    out["obv"] = talib.OBV(c, v)
    out["vwap"] = session_vwap(h, l, c, v, times_ns) if intraday else np.full(len(c), np.nan)
    mean = np.empty_like(v)
    std = np.empty_like(v)
    mean[0] = std[0] = np.nan
    mean[1:] = talib.SMA(v, VOLUME_Z_LEN)[:-1]
    std[1:] = talib.STDDEV(v, VOLUME_Z_LEN, 1.0)[:-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["volume_z"] = np.where(std > 1e-12 * np.abs(mean), (v - mean) / std, np.nan)
    return out


def _pandas_ta_frame(candles: pd.DataFrame, intraday: bool) -> pd.DataFrame:
    """The same columns through pandas-ta's per-call API (the reference path)."""
    import pandas_ta as ta  # imported lazily: only the reference path needs it

    o, h, l, c, v = (candles[k].astype("float64") for k in OHLCV)
    cols: dict[str, pd.Series] = {}
    for n in MA_LENGTHS:
        cols[f"sma_{n}"] = ta.sma(c, n)
    for n in MA_LENGTHS:
        cols[f"ema_{n}"] = ta.ema(c, n)
    cols["rsi_14"] = ta.rsi(c, RSI_LEN)
    m = ta.macd(c, MACD_FAST, MACD_SLOW, MACD_SIGNAL)
    sfx = f"{MACD_FAST}_{MACD_SLOW}_{MACD_SIGNAL}"
    cols["macd"], cols["macd_signal"], cols["macd_hist"] = m[f"MACD_{sfx}"], m[f"MACDs_{sfx}"], m[f"MACDh_{sfx}"]
    bb = ta.bbands(c, BB_LEN, BB_STD, BB_STD)
    sfx = f"{BB_LEN}_{BB_STD}_{BB_STD}"
    for ours, theirs in (("bb_lower", "BBL"), ("bb_mid", "BBM"), ("bb_upper", "BBU"),
                         ("bb_bandwidth", "BBB"), ("bb_percent", "BBP")):
        cols[ours] = bb[f"{theirs}_{sfx}"]
    cols["atr_14"] = ta.atr(h, l, c, ATR_LEN)
    dm = ta.adx(h, l, c, ADX_LEN)
    cols["adx_14"] = dm[f"ADX_{ADX_LEN}"]
    # pandas-ta's DMP/DMN are TA-Lib's smoothed movements, not +DI/-DI: derive
    # the indicators from them and Wilder's smoothed true range (sum form,
    # n * ATR).  TA-Lib seeds its TR sum differently from ATR, so these agree
    # with TA-Lib's PLUS_DI/MINUS_DI only after the seed has decayed
    # (< 1e-6 after 300 bars).
    tr_sum = (cols["atr_14"] if ATR_LEN == ADX_LEN else ta.atr(h, l, c, ADX_LEN)) * ADX_LEN
    cols["plus_di_14"] = 100.0 * dm[f"DMP_{ADX_LEN}"] / tr_sum
    cols["minus_di_14"] = 100.0 * dm[f"DMN_{ADX_LEN}"] / tr_sum
    st = ta.stoch(h, l, c, STOCH_K, STOCH_D, STOCH_SMOOTH)
    sfx = f"{STOCH_K}_{STOCH_D}_{STOCH_SMOOTH}"
    cols["stoch_k"], cols["stoch_d"] = st[f"STOCHk_{sfx}"], st[f"STOCHd_{sfx}"]
    cols["obv"] = ta.obv(c, v)
    if intraday:
        cols["vwap"] = ta.vwap(h, l, c, v, anchor="D")
    else:
        cols["vwap"] = pd.Series(np.nan, index=candles.index)
    prev = v.shift(1)
    mean = prev.rolling(VOLUME_Z_LEN).mean()
    std = prev.rolling(VOLUME_Z_LEN).std(ddof=0)
    cols["volume_z"] = ((v - mean) / std).where(std > 1e-12 * mean.abs())
    frame = pd.DataFrame({k: cols[k].to_numpy(dtype="float64") for k in INDICATOR_COLUMNS}, index=candles.index)
    return frame


def tail_start(times: pd.DatetimeIndex, last: int, warmup: int = WARMUP_BARS) -> int:
    """Position where a bounded-tail computation of the last ``last`` rows starts."""
    n = len(times)
    first_out = max(0, n - last)
    start = max(0, first_out - warmup)
    if start > 0:  # back to the UTC session start of that bar, so VWAP is exact
        day0 = times[start].floor("D")
        start = int(times.searchsorted(day0, side="left"))
    return start


def compute_indicators(candles: pd.DataFrame, timeframe: str, *, last: int | None = None,
                       engine: str = "talib") -> pd.DataFrame:
    """All indicator columns (``INDICATOR_COLUMNS``) for a canonical candle frame.

    ``last``: only the last ``last`` rows are returned, computed over a bounded
    tail of ``last + WARMUP_BARS`` bars (see the module docstring for the
    tolerance).  ``engine``: ``"talib"`` (fast, direct kernels) or
    ``"pandas_ta"`` (pandas-ta per-call API, the reference).
    Values at bar t use only bars up to and including t.
    """
    validate_candles(candles)
    validate_timeframe(timeframe)
    if last is not None:
        if not isinstance(last, int) or last < 1:
            raise ValueError(f"last must be a positive integer, got {last!r}")
        candles = candles.iloc[tail_start(candles.index, last):]
    intraday = timeframe in INTRADAY_TIMEFRAMES
    if engine == "talib":
        o, h, l, c, v = ohlcv_arrays(candles)
        arrays = _talib_arrays(o, h, l, c, v, candles.index.as_unit("ns").asi8, intraday)
        frame = pd.DataFrame(arrays, index=candles.index, columns=INDICATOR_COLUMNS)
    elif engine == "pandas_ta":
        frame = _pandas_ta_frame(candles, intraday)
    else:
        raise ValueError(f"engine must be 'talib' or 'pandas_ta', got {engine!r}")
    if last is not None:
        frame = frame.iloc[-last:]
    return frame


def indicator_arrays(candles: pd.DataFrame, timeframe: str, arrays: tuple[np.ndarray, ...] | None = None,
                     *, validate: bool = True) -> dict[str, np.ndarray]:
    """The fast path without building a DataFrame: ``{column: ndarray}``.

    ``arrays`` may pass ``ohlcv_arrays(candles)`` already extracted."""
    if validate:
        validate_candles(candles)
        validate_timeframe(timeframe)
    o, h, l, c, v = ohlcv_arrays(candles) if arrays is None else arrays
    return _talib_arrays(o, h, l, c, v, candles.index.as_unit("ns").asi8, timeframe in INTRADAY_TIMEFRAMES)
