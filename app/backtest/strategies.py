"""Strategies: parameterised rules that turn candles into target positions.

Every strategy is a small class with a parameter schema (``Param``: name,
type, default, min, max or choices — enough for a UI to build and validate a form) and
``signals(candles) -> pd.Series`` of target positions in {-1, 0, +1} on the
candle index. The value at bar ``t`` uses data up to and including ``t``
only; the engine executes it at the open of ``t+1``.

Indicators come from pandas-ta (TA-Lib kernels when present). Strategies
that trade on a precomputed series (signal score, LSTM prediction) take it as
an injected keyword argument so the backtest does not depend on how it was
produced; that series must itself be free of look-ahead.

Entry semantics (``entry`` parameter of every rule-based strategy, stamped in
each result's assumptions): ``cross`` (default) enters when the entry
condition *becomes* true — false on the previous bar, true on this one — so
no position is taken before the first crossing; ``state`` is in the market
whenever the condition holds, from the first bar where it can be computed.
Exits are unchanged by it.
"""
from __future__ import annotations

from abc import ABC, abstractmethod

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pandas_ta as ta
from numba import njit

from app.marketdata import OHLCV


@dataclass(frozen=True)
class Param:
    name: str
    type: type
    default: Any
    min: float | None = None
    max: float | None = None
    description: str = ""
    choices: tuple[str, ...] | None = None   # for ``type is str``: the allowed values

    def validate(self, value: Any) -> Any:
        if self.type is str:
            if not isinstance(value, str) or value not in (self.choices or ()):
                raise ValueError(f"{self.name} must be one of {', '.join(self.choices or ())}, got {value!r}")
            return value
        if self.type is bool:
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"{self.name} must be true or false, got {value!r}")
            return bool(value)
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ValueError(f"{self.name} must be a number, got {value!r}")
        try:
            finite = bool(np.isfinite(float(value)))
        except OverflowError:
            finite = False
        if not finite:
            raise ValueError(f"{self.name} must be finite, got {value!r}")
        if self.type is int:
            if float(value) != int(value):
                raise ValueError(f"{self.name} must be a whole number, got {value!r}")
            value = int(value)
        else:
            value = float(value)
            if not np.isfinite(value):
                raise ValueError(f"{self.name} must be finite, got {value!r}")
        if self.min is not None and value < self.min:
            raise ValueError(f"{self.name} must be >= {self.min}, got {value!r}")
        if self.max is not None and value > self.max:
            raise ValueError(f"{self.name} must be <= {self.max}, got {value!r}")
        return value

    def to_dict(self) -> dict:
        return {"name": self.name, "type": self.type.__name__, "default": self.default,
                "min": self.min, "max": self.max, "description": self.description,
                "choices": list(self.choices) if self.choices else None}


SHORT = Param("allow_short", bool, True, description="take short positions on the opposite signal")
ENTRY_MODES = ("cross", "state")
ENTRY = Param("entry", str, "cross", description="cross: enter when the condition becomes true (a crossing); "
              "state: in the market whenever it holds", choices=ENTRY_MODES)


def _crossed(cond: np.ndarray) -> np.ndarray:
    """True where ``cond`` becomes true: false on the previous bar, true on this one (never on the first bar)."""
    out = np.zeros(len(cond), dtype=bool)
    out[1:] = cond[1:] & ~cond[:-1]
    return out


def _entries(values: dict, cond: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """The entry signal for ``cond`` (an indicator condition, false where not ``valid``) by ``entry`` mode.
    A crossing needs a valid previous bar: the first computable bar is never one."""
    cond = cond & valid
    if values.get("entry", "state") == "state":
        return cond
    out = _crossed(cond)
    out[1:] &= valid[:-1]
    return out


@njit(cache=True, nogil=True)
def _hold(enter_long, exit_long, enter_short, exit_short):
    """Position state machine: exits first, then entries (so a bar may reverse)."""
    n = enter_long.shape[0]
    out = np.zeros(n, dtype=np.int8)
    state = 0
    for t in range(n):
        if (state == 1 and exit_long[t]) or (state == -1 and exit_short[t]):
            state = 0
        if enter_long[t] and state != 1:
            state = 1
        elif enter_short[t] and state != -1:
            state = -1
        out[t] = state
    return out


def _close(candles: pd.DataFrame) -> pd.Series:
    if not isinstance(candles, pd.DataFrame) or any(c not in candles.columns for c in OHLCV):
        raise ValueError(f"candles must be a DataFrame with columns {OHLCV}")
    return candles["close"].astype(np.float64)


def _as_signal(values: np.ndarray, index: pd.Index) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=np.int8), index=index, name="target")


class Strategy(ABC):
    """Base class. Subclasses set ``name``, ``description``, ``params`` and
    implement ``_signals``. Construct with keyword parameters; missing ones
    take their defaults, unknown or out-of-range ones raise ``ValueError``."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    params: ClassVar[tuple[Param, ...]] = ()

    def __init__(self, **values: Any) -> None:
        known = {p.name: p for p in self.params}
        unknown = set(values) - set(known)
        if unknown:
            raise ValueError(f"{self.name}: unknown parameters {sorted(unknown)}; expected {sorted(known)}")
        self.values = {n: p.validate(values.get(n, p.default)) for n, p in known.items()}
        self._check()

    def _check(self) -> None:
        """Cross-parameter rules; raise ``ValueError``."""

    @classmethod
    def schema(cls) -> list[dict]:
        return [p.to_dict() for p in cls.params]

    def signals(self, candles: pd.DataFrame) -> pd.Series:
        close = _close(candles)
        out = self._signals(candles, close)
        if not self.values.get("allow_short", True):
            out = np.maximum(out, 0)
        return _as_signal(out, candles.index)

    @abstractmethod
    def _signals(self, candles: pd.DataFrame, close: pd.Series) -> np.ndarray:
        """Target positions (-1/0/+1) at each bar's close, from data up to that bar only."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.values})"


def _two_lines(values: dict, f: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Long while line ``f`` is above ``s``, short otherwise (``state``), or from the crossings on (``cross``)."""
    valid = ~(np.isnan(f) | np.isnan(s))
    state = np.where(valid, np.where(f > s, 1, -1), 0).astype(np.int8)
    if values.get("entry", "state") == "state":
        return state
    up = _entries(values, f > s, valid)
    down = _entries(values, ~(f > s), valid)
    return _hold(up, down, down, up)


class MovingAverageCross(Strategy):
    name = "ma_cross"
    description = ("Long after the fast moving average crosses above the slow one, short (or flat) after it "
                   "crosses below (entry=state: whenever it is above / below).")
    params = (Param("fast", int, 10, 2, 500, "fast window (bars)"),
              Param("slow", int, 30, 3, 2000, "slow window (bars)"),
              Param("ema", bool, False, description="exponential instead of simple averages"),
              SHORT, ENTRY)

    def _check(self) -> None:
        if self.values["fast"] >= self.values["slow"]:
            raise ValueError("ma_cross: fast must be smaller than slow")

    def _signals(self, candles, close):
        v = self.values
        if v["ema"]:
            fast, slow = ta.ema(close, v["fast"]), ta.ema(close, v["slow"])
        else:
            fast = close.rolling(v["fast"], min_periods=v["fast"]).mean()
            slow = close.rolling(v["slow"], min_periods=v["slow"]).mean()
        return _two_lines(v, fast.to_numpy(), slow.to_numpy())


class RsiMeanReversion(Strategy):
    name = "rsi_reversion"
    description = "Buy when RSI falls below `lower`, sell short above `upper`; exit when RSI crosses `exit`."
    params = (Param("length", int, 14, 2, 200, "RSI window"),
              Param("lower", float, 30.0, 1, 99, "oversold level (enter long below)"),
              Param("upper", float, 70.0, 1, 99, "overbought level (enter short above)"),
              Param("exit", float, 50.0, 1, 99, "exit level"),
              SHORT, ENTRY)

    def _check(self) -> None:
        v = self.values
        if not v["lower"] < v["exit"] < v["upper"]:
            raise ValueError("rsi_reversion: need lower < exit < upper")

    def _signals(self, candles, close):
        v = self.values
        rsi = ta.rsi(close, v["length"])
        r = (rsi if rsi is not None else close * np.nan).to_numpy()
        valid = ~np.isnan(r)
        return _hold(_entries(v, r < v["lower"], valid), r >= v["exit"], _entries(v, r > v["upper"], valid),
                     r <= v["exit"])


class BollingerBreakout(Strategy):
    name = "bollinger_breakout"
    description = "Long on a close above the upper band, short below the lower band; exit at the middle band."
    params = (Param("length", int, 20, 2, 500, "band window"),
              Param("std", float, 2.0, 0.1, 10.0, "band width in standard deviations"),
              SHORT, ENTRY)

    def _signals(self, candles, close):
        v = self.values
        mid = close.rolling(v["length"], min_periods=v["length"]).mean()
        sd = close.rolling(v["length"], min_periods=v["length"]).std(ddof=0)
        c, m = close.to_numpy(), mid.to_numpy()
        up, lo = m + v["std"] * sd.to_numpy(), m - v["std"] * sd.to_numpy()
        valid = ~np.isnan(m)
        return _hold(_entries(v, c > up, valid), c < m, _entries(v, c < lo, valid), c > m)


class MacdTrend(Strategy):
    name = "macd_trend"
    description = ("Long after MACD crosses above its signal line, short (or flat) after it crosses below "
                   "(entry=state: whenever it is above / below).")
    params = (Param("fast", int, 12, 2, 200), Param("slow", int, 26, 3, 500),
              Param("signal", int, 9, 2, 200), SHORT, ENTRY)

    def _check(self) -> None:
        if self.values["fast"] >= self.values["slow"]:
            raise ValueError("macd_trend: fast must be smaller than slow")

    def _signals(self, candles, close):
        v = self.values
        macd = ta.macd(close, v["fast"], v["slow"], v["signal"])
        if macd is None:  # too few bars for the windows
            return np.zeros(len(close), dtype=np.int8)
        line, sig = macd.iloc[:, 0].to_numpy(), macd.iloc[:, 2].to_numpy()
        return _two_lines(v, line, sig)


def _injected(series: Any, index: pd.Index, what: str) -> np.ndarray:
    if not isinstance(series, pd.Series) or not isinstance(series.index, pd.DatetimeIndex):
        raise ValueError(f"{what} must be a pandas Series on a DatetimeIndex")
    if not pd.api.types.is_numeric_dtype(series):
        raise ValueError(f"{what} must be numeric")
    # bars without a value stay NaN: no entry, and no exit either
    return series.reindex(index).to_numpy(dtype=np.float64)


class _Thresholds(Strategy):
    series_name: ClassVar[str] = ""

    def __init__(self, series: pd.Series | None = None, **values: Any) -> None:
        super().__init__(**values)
        if series is None:
            raise ValueError(f"{self.name}: pass the precomputed {self.series_name} series")
        self.series = series

    def _signals(self, candles, close):
        v = self.values
        x = _injected(self.series, candles.index, self.series_name)
        valid = ~np.isnan(x)
        return _hold(_entries(v, x > v["enter_long"], valid), x < v["exit_long"],
                     _entries(v, x < v["enter_short"], valid), x > v["exit_short"])

    def _check(self) -> None:
        v = self.values
        if not (v["exit_long"] <= v["enter_long"] and v["enter_short"] <= v["exit_short"]):
            raise ValueError(f"{self.name}: need exit_long <= enter_long and enter_short <= exit_short")


class ScoreThreshold(_Thresholds):
    """Trades a signal score (0-100) such as ``app.analysis`` ``score_series``.

    ``ScoreThreshold(score=series, enter_long=70, exit_long=50)``."""

    name = "score_threshold"
    description = "Long when the signal score rises above X, exit below Y (mirrored for shorts)."
    series_name = "score"
    params = (Param("enter_long", float, 70.0, 0, 100, "enter long above"),
              Param("exit_long", float, 50.0, 0, 100, "exit long below"),
              Param("enter_short", float, 30.0, 0, 100, "enter short below"),
              Param("exit_short", float, 50.0, 0, 100, "exit short above"),
              Param("allow_short", bool, False, description="take short positions"), ENTRY)

    def __init__(self, score: pd.Series | None = None, **values: Any) -> None:
        super().__init__(score, **values)


class LstmSignal(_Thresholds):
    """Trades a model's prediction: p(up) in [0, 1] or an expected return.

    ``LstmSignal(prediction=series, enter_long=0.55, exit_long=0.5, ...)``."""

    name = "lstm"
    description = "Long when the predicted p(up) / expected return is above a threshold (mirrored for shorts)."
    series_name = "prediction"
    params = (Param("enter_long", float, 0.55, -1, 1, "enter long above"),
              Param("exit_long", float, 0.50, -1, 1, "exit long below"),
              Param("enter_short", float, 0.45, -1, 1, "enter short below"),
              Param("exit_short", float, 0.50, -1, 1, "exit short above"),
              SHORT, ENTRY)

    def __init__(self, prediction: pd.Series | None = None, **values: Any) -> None:
        super().__init__(prediction, **values)


class BuyAndHold(Strategy):
    name = "buy_and_hold"
    description = "Always long: the benchmark."
    params = ()

    def _signals(self, candles, close):
        return np.ones(len(close), dtype=np.int8)


STRATEGIES: dict[str, type[Strategy]] = {
    cls.name: cls for cls in (MovingAverageCross, RsiMeanReversion, BollingerBreakout, MacdTrend,
                              ScoreThreshold, LstmSignal, BuyAndHold)
}


def get_strategy(name: str, series: pd.Series | None = None, **params: Any) -> Strategy:
    """Build a registered strategy by name (``series`` for score/LSTM)."""
    try:
        cls = STRATEGIES[name]
    except KeyError:
        raise ValueError(f"unknown strategy {name!r}; expected one of {sorted(STRATEGIES)}") from None
    if issubclass(cls, _Thresholds):
        return cls(series, **params)
    if series is not None:
        raise ValueError(f"{name} takes no injected series")
    return cls(**params)
