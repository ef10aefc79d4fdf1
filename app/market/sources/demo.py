"""Synthetic DEMO market data: seeded, documented, never presented as real.

No package ships real intraday crypto candles, so offline Candlewise runs on
this generator. Everything it produces is stored and shown under the exchange
name :data:`DEMO_EXCHANGE` (``"demo"``) so it can never be mistaken for data
from a real exchange.

Model
-----
Time is anchored to an absolute calendar (UTC days since :data:`EPOCH`), so a
given ``(seed, symbol, minute)`` always yields the same bar whichever window
is asked for: two overlapping requests agree bar for bar, and a demo "live"
feed extends its history consistently as the clock moves. Each day's random
numbers come from ``numpy.random.default_rng([seed, kind, stream, day])``.

Daily layer (one step per UTC day, run from :data:`EPOCH`; cheap):

* **Regimes** - a 3-state Markov chain (``range``, ``bull``, ``bear``) shared
  by all symbols; :data:`REGIME_TRANSITIONS` gives mean durations of 2-3
  weeks. Each regime has a daily drift (:data:`REGIME_DRIFT`, scaled by a
  symbol's ``beta``) and a volatility factor (:data:`REGIME_VOL`): trends and
  quiet ranges, sell-offs more volatile than rallies.
* **Daily volatility clustering** - GARCH(1,1) on the market's daily shock
  (``DAILY_GARCH = (alpha, beta)``), unconditional variance 1.
* **Daily log return** of symbol *i* on day *d*::

      D = beta_i * drift[regime] + KAPPA * (log P*_i - log P_{d-1})
          + daily_vol_i * v_d * (rho_i * u_d + sqrt(1 - rho_i^2) * w_{i,d})

  ``u`` is the common (market) factor, ``w`` the symbol's own shock, both
  standardized Student-t with :data:`T_DOF` degrees of freedom. ``KAPPA`` is
  a weak pull towards a seed-chosen level ``P*`` (BTC 68k-88k, ETH 2.3k-3.4k,
  others from a hash of the symbol) so prices stay realistic for decades.

Intraday layer (1440 one-minute steps per day, vectorised over days):

* **Fat tails** - minute shocks are standardized Student-t (``T_DOF`` = 4.5).
* **Minute volatility clustering** - GARCH(1,1) on the market minute shock
  (``MINUTE_GARCH``; persistence 0.99, half-life about 70 minutes), restarted
  each day after a warm-up over the previous day's shocks (which is what
  keeps every day reproducible on its own).
* **BTC-ETH correlation** - minute return of symbol *i* is
  ``sigma_i * v_d * S(hour) * sqrt(h_t) * (rho_i * z_t + sqrt(1-rho_i^2) * e_t)``
  with ``z`` the common factor, so corr(i, j) = ``rho_i * rho_j``
  (BTC 0.93 x ETH 0.90 = 0.84).
* **Intraday seasonality** - ``S`` is the square root of the UTC hour-of-day
  volume profile :func:`hour_profile` (Asia open around 01:00, Europe around
  08:00, the US/EU overlap peak around 14:30, a trough around 05:00); weekends
  carry :data:`WEEKEND_VOLUME` of weekday volume.
* **Bridging** - each day's minute path gets a constant per-minute shift so it
  ends exactly at the daily layer's close; the shift is ~4 % of one minute's
  standard deviation, invisible in minute statistics.
* **Bars** - close from the path; open = previous close times
  ``exp(OPEN_NOISE * sigma_t * n)`` (a small gap, like a real first trade);
  high/low sampled exactly from the maximum/minimum of a Brownian bridge from
  open to close with the bar's volatility, so high >= max(open, close) and
  low <= min(open, close) by construction; prices rounded to a tick of six
  significant digits.
* **Volume** - ``base_volume * hour profile * weekday factor * (v_d sqrt(h_t))^0.7
  * exp(0.35 min(|eps_t|, 8) + 0.3 n_t)``: follows the session, rises with volatility
  and with the size of the bar's own move (corr(volume, |return|) > 0).
"""
from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, ClassVar, Sequence

import numpy as np
import pandas as pd

from app.market.ticker import ticker_from_candles
from app.market.resample import resample_candles
from app.market.sources.base import Source, Ticker, require_utc, utc_now
from app.marketdata import (
    OHLCV,
    TIMEFRAMES,
    empty_candles,
    timeframe_seconds,
    validate_symbol,
)

DEMO_EXCHANGE = "demo"
EPOCH = pd.Timestamp("2020-01-01", tz="UTC")
MINUTES_PER_DAY = 1440
_HORIZON_DAYS = 40_000  # daily draws always have this length, so prefixes never change

T_DOF = 4.5
MINUTE_GARCH = (0.04, 0.95)
DAILY_GARCH = (0.10, 0.85)
KAPPA = 0.05
REGIMES = ("range", "bull", "bear")
REGIME_TRANSITIONS = np.array(
    [
        [0.950, 0.025, 0.025],
        [0.050, 0.930, 0.020],
        [0.060, 0.020, 0.920],
    ]
)
REGIME_DRIFT = np.array([0.0, 0.006, -0.007])
REGIME_VOL = np.array([0.75, 1.0, 1.3])
OPEN_NOISE = 0.05
WEEKEND_VOLUME = 0.7
# Seed keys are always [seed, kind, a, b] so no two streams can coincide.
_MARKET_STREAM = 0
_REGIME_KIND = 1
_DAILY_KIND = 2
_MINUTE_KIND = 3


@dataclass(frozen=True)
class SymbolParams:
    """How one demo symbol behaves. ``level_range`` bounds the seed-chosen level."""

    level_range: tuple[float, float]
    daily_vol: float
    rho: float
    beta: float
    base_volume: float  # base units per minute at an average hour


KNOWN_SYMBOLS: dict[str, SymbolParams] = {
    "BTC/USDT": SymbolParams((68_000.0, 88_000.0), 0.032, 0.93, 1.0, 12.0),
    "ETH/USDT": SymbolParams((2_300.0, 3_400.0), 0.042, 0.90, 1.2, 250.0),
    "SOL/USDT": SymbolParams((120.0, 190.0), 0.055, 0.80, 1.4, 2_500.0),
    "BNB/USDT": SymbolParams((520.0, 680.0), 0.035, 0.78, 0.9, 300.0),
    "XRP/USDT": SymbolParams((0.5, 2.4), 0.055, 0.72, 1.2, 200_000.0),
}


def _stream(symbol: str) -> int:
    return 1000 + zlib.crc32(symbol.encode())


def symbol_params(symbol: str) -> SymbolParams:
    """Parameters for ``symbol``: tuned for :data:`KNOWN_SYMBOLS`, derived from a hash otherwise."""
    symbol = validate_symbol(symbol)
    if symbol in KNOWN_SYMBOLS:
        return KNOWN_SYMBOLS[symbol]
    u = np.random.default_rng([_stream(symbol)]).random(4)
    level = float(10 ** (-1.0 + 3.5 * u[0]))  # 0.1 .. ~300 quote units
    return SymbolParams(
        level_range=(level * 0.85, level * 1.15),
        daily_vol=0.045 + 0.03 * float(u[1]),
        rho=0.65 + 0.15 * float(u[2]),
        beta=1.1 + 0.4 * float(u[3]),
        base_volume=150_000.0 / level,
    )


def hour_profile() -> np.ndarray:
    """Relative volume by UTC hour (24 values, mean 1). Peak = US/EU overlap."""
    h = np.arange(24) + 0.5

    def bump(center: float, width: float) -> np.ndarray:
        d = np.minimum(np.abs(h - center), 24 - np.abs(h - center))
        return np.exp(-((d / width) ** 2))

    p = 0.55 + 1.0 * bump(14.5, 2.8) + 0.35 * bump(8.0, 2.0) + 0.25 * bump(1.0, 1.8)
    return p / p.mean()


def _std_t(rng: np.random.Generator, size) -> np.ndarray:
    return rng.standard_t(T_DOF, size) * np.sqrt((T_DOF - 2.0) / T_DOF)


# ---------------------------------------------------------------- daily layer
def _regimes(seed: int, n_days: int) -> np.ndarray:
    u = np.random.default_rng([seed, _REGIME_KIND, 0, 0]).random(_HORIZON_DAYS)[:n_days]
    cum = np.cumsum(REGIME_TRANSITIONS, axis=1)
    out = np.empty(n_days, dtype=np.int64)
    state = 0
    for d in range(n_days):
        state = int(np.searchsorted(cum[state], u[d], side="right"))
        state = min(state, len(REGIMES) - 1)
        out[d] = state
    return out


def _market_daily(seed: int, n_days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Regime per day, daily volatility multiplier v_d and the market shock u_d."""
    regime = _regimes(seed, n_days)
    u = _std_t(np.random.default_rng([seed, _DAILY_KIND, _MARKET_STREAM, 0]), _HORIZON_DAYS)[:n_days]
    a, b = DAILY_GARCH
    g = np.empty(n_days)
    prev_g, prev_u = 1.0, 0.0
    for d in range(n_days):
        prev_g = (1.0 - a - b) + (a * prev_u * prev_u + b) * prev_g
        g[d] = prev_g
        prev_u = u[d]
    v = REGIME_VOL[regime] * np.sqrt(g)
    return regime, v, u


def _symbol_daily(seed: int, symbol: str, p: SymbolParams, n_days: int, regime, v, u):
    """Daily log closes L[d] (d = 0 .. n_days-1) and the level before day 0."""
    rng = np.random.default_rng([seed, _DAILY_KIND, _stream(symbol), 0])
    lo, hi = np.log(p.level_range[0]), np.log(p.level_range[1])
    target = lo + (hi - lo) * rng.random()
    w = _std_t(rng, _HORIZON_DAYS)[:n_days]
    shock = p.daily_vol * v * (p.rho * u + np.sqrt(1.0 - p.rho**2) * w)
    drift = p.beta * REGIME_DRIFT[regime]
    closes = np.empty(n_days)
    level = target
    for d in range(n_days):
        level = level + drift[d] + KAPPA * (target - level) + shock[d]
        closes[d] = level
    return closes, target


# ------------------------------------------------------------- intraday layer
def _minute_garch(z: np.ndarray) -> np.ndarray:
    """h for days 1..n-1 of ``z`` (n, 1440), each warmed up on the day before."""
    a, b = MINUTE_GARCH
    omega = 1.0 - a - b
    n = z.shape[0] - 1
    h = np.ones(n)
    out = np.empty((n, MINUTES_PER_DAY))
    warm, today = z[:-1], z[1:]
    for t in range(MINUTES_PER_DAY):
        h = omega + (a * warm[:, t] ** 2 + b) * h
    for t in range(MINUTES_PER_DAY):
        out[:, t] = h
        h = omega + (a * today[:, t] ** 2 + b) * h
    return out


def _tick(level: float) -> float:
    return float(10.0 ** (np.floor(np.log10(level)) - 5))


def _parse_end(end) -> pd.Timestamp:
    if end is None:
        return pd.Timestamp(utc_now())
    if isinstance(end, str):
        end = pd.Timestamp(end)
    return require_utc(end, "end")


def _generate(symbols, first: pd.Timestamp, last: pd.Timestamp, seed: int) -> dict[str, pd.DataFrame]:
    """1m bars with open times first..last inclusive (both minute-aligned)."""
    if first < EPOCH:
        raise ValueError(f"demo data starts at {EPOCH.isoformat()}; asked for {first.isoformat()}")
    if last >= EPOCH + pd.Timedelta(days=_HORIZON_DAYS):
        raise ValueError(f"demo data ends {_HORIZON_DAYS} days after {EPOCH.date()}; asked for {last.isoformat()}")
    d_first = (first - EPOCH).days
    d_last = (last - EPOCH).days
    days = np.arange(d_first, d_last + 1)
    n_total = d_last + 1
    regime, v, u = _market_daily(seed, n_total)

    # market minute shocks for the window's days plus one warm-up day
    z = np.empty((len(days) + 1, MINUTES_PER_DAY))
    for k, d in enumerate(range(d_first - 1, d_last + 1)):
        z[k] = _std_t(np.random.default_rng([seed, _MINUTE_KIND, _MARKET_STREAM, d + 1]), MINUTES_PER_DAY)
    h = _minute_garch(z)
    z = z[1:]

    day_starts = EPOCH + pd.to_timedelta(days, unit="D")
    weekday = np.asarray(day_starts.dayofweek)
    hp = np.repeat(hour_profile(), 60)  # per minute of day
    season_vol = np.sqrt(hp) / np.sqrt(np.mean(hp))
    vol_season = hp[None, :] * np.where(weekday >= 5, WEEKEND_VOLUME, 1.0)[:, None]
    index = pd.DatetimeIndex(
        (day_starts.values[:, None] + pd.to_timedelta(np.arange(MINUTES_PER_DAY), unit="min").values[None, :]).ravel(),
        tz=None,
    ).tz_localize("UTC").rename("time")
    keep = (index >= first) & (index <= last)
    index = index[keep]

    out: dict[str, pd.DataFrame] = {}
    for raw in symbols:
        symbol = validate_symbol(raw)
        p = symbol_params(symbol)
        closes, target = _symbol_daily(seed, symbol, p, n_total, regime, v, u)
        prev_close = np.concatenate(([target], closes))[days]  # log close of day d-1
        n = len(days)
        e = np.empty((n, MINUTES_PER_DAY))
        uh = np.empty_like(e)
        ul = np.empty_like(e)
        on = np.empty_like(e)
        vn = np.empty_like(e)
        stream = _stream(symbol)
        for k, d in enumerate(days):
            rng = np.random.default_rng([seed, _MINUTE_KIND, stream, int(d) + 1])
            e[k] = _std_t(rng, MINUTES_PER_DAY)
            uh[k], ul[k] = 1.0 - rng.random((2, MINUTES_PER_DAY))
            on[k], vn[k] = rng.standard_normal((2, MINUTES_PER_DAY))
        eps = p.rho * z + np.sqrt(1.0 - p.rho**2) * e
        vol_level = v[days][:, None] * np.sqrt(h)
        sigma = p.daily_vol / np.sqrt(MINUTES_PER_DAY) * vol_level * season_vol[None, :]
        r = sigma * eps
        path = np.cumsum(r, axis=1)
        shift = (closes[days] - prev_close - path[:, -1]) / MINUTES_PER_DAY
        log_close = prev_close[:, None] + path + shift[:, None] * np.arange(1, MINUTES_PER_DAY + 1)
        log_prev = np.concatenate((prev_close[:, None], log_close[:, :-1]), axis=1)
        log_open = log_prev + OPEN_NOISE * sigma * on
        move = log_close - log_open
        var2 = 2.0 * sigma**2
        log_high = log_open + 0.5 * (move + np.sqrt(move**2 - var2 * np.log(uh)))
        log_low = log_open + 0.5 * (move - np.sqrt(move**2 - var2 * np.log(ul)))
        volume = p.base_volume * vol_season * vol_level**0.7 * np.exp(0.35 * np.minimum(np.abs(eps), 8.0) + 0.3 * vn - 0.35)

        tick = _tick(float(np.exp(target)))
        cols = {}
        for name, arr in (("open", log_open), ("high", log_high), ("low", log_low), ("close", log_close)):
            cols[name] = np.round(np.exp(arr.ravel()[keep]) / tick) * tick
        cols["volume"] = np.round(volume.ravel()[keep], 5)
        frame = pd.DataFrame(cols, index=index, columns=OHLCV)
        out[symbol] = frame
    return out


def last_closed_minute(end=None) -> pd.Timestamp:
    """Open time of the last 1m bar closed at ``end`` (default: now, UTC)."""
    return _parse_end(end).floor("min") - pd.Timedelta(minutes=1)


def generate_demo_candles(symbols, end=None, days: int = 90, seed: int = 7) -> dict[str, pd.DataFrame]:
    """``days`` x 1440 one-minute DEMO bars per symbol, the last one closed at ``end``.

    ``end`` is a tz-aware moment (default now); the last bar opens at
    ``floor(end, minute) - 1 minute``. Same ``seed`` and ``end`` -> identical
    frames; overlapping windows agree bar for bar. Returns canonical candle
    frames keyed by canonical symbol.
    """
    if isinstance(symbols, str):
        symbols = [symbols]
    if not symbols:
        raise ValueError("symbols must name at least one symbol, e.g. ['BTC/USDT']")
    if not isinstance(days, (int, np.integer)) or days < 1:
        raise ValueError(f"days must be a positive integer, got {days!r}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    last = last_closed_minute(end)
    first = last - pd.Timedelta(minutes=int(days) * MINUTES_PER_DAY - 1)
    return _generate(list(symbols), first, last, int(seed))


# ------------------------------------------------------------------ source
_CHUNK_DAYS = 30


class DemoSource(Source):
    """Synthetic DEMO exchange (name ``"demo"``) over :func:`generate_demo_candles`' model.

    Serves every timeframe (resampled from 1m), closed bars only, for any
    valid symbol; ``list_symbols`` returns the configured ones. No network.
    """

    name: ClassVar[str] = DEMO_EXCHANGE
    supported_timeframes: ClassVar[tuple[str, ...]] = tuple(TIMEFRAMES)

    def __init__(
        self,
        symbols: Sequence[str] = ("BTC/USDT", "ETH/USDT"),
        *,
        seed: int = 7,
        clock: Callable[[], datetime] = utc_now,
    ):
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.symbols = [validate_symbol(s) for s in symbols]
        if not self.symbols:
            raise ValueError("DemoSource needs at least one symbol")
        self.seed = int(seed)
        self.http = None
        self._clock = clock

    def close(self) -> None:
        """Nothing to release: the demo source holds no connection."""

    def list_symbols(self) -> list[str]:
        return list(self.symbols)

    def fetch_candles(self, symbol: str, timeframe: str, since: datetime, until: datetime) -> pd.DataFrame:
        """Closed DEMO bars with open time in ``[since, until)``, from :data:`EPOCH` on."""
        symbol = validate_symbol(symbol)
        step = timeframe_seconds(timeframe)
        start = require_utc(since, "since")
        end = require_utc(until, "until")
        if end <= start:
            raise ValueError(f"until ({end.isoformat()}) must be after since ({start.isoformat()})")
        last_open_allowed = int(self.now().timestamp()) - step
        end_s = min(int(math.ceil(end.timestamp())), last_open_allowed + 1)
        start_s = max(int(math.ceil(start.timestamp())), int(EPOCH.timestamp()))
        return self._frame(symbol, timeframe, step, start_s, end_s)

    def _frame(self, symbol: str, timeframe: str, step: int, start_s: int, end_s: int) -> pd.DataFrame:
        """Bars with open time in ``[start_s, end_s)``, generated 30 days at a time."""
        first_bar = -(-start_s // step) * step
        last_bar = (end_s - 1) // step * step
        if last_bar < first_bar:
            return empty_candles()
        frames = []
        chunk = first_bar
        stop = last_bar + step  # exclusive end of the last bar, in seconds
        while chunk < stop:
            chunk_end = min((chunk // 86400 + _CHUNK_DAYS) * 86400, stop)
            first = pd.Timestamp(chunk, unit="s", tz="UTC")
            last = pd.Timestamp(chunk_end - 60, unit="s", tz="UTC")
            one_minute = _generate([symbol], first, last, self.seed)[symbol]
            frames.append(resample_candles(one_minute, "1m", timeframe))
            chunk = chunk_end
        return pd.concat(frames) if len(frames) > 1 else frames[0]

    def _fetch_rows(self, symbol: str, timeframe: str, step: int, start_s: int, end_s: int):
        """The :class:`Source` row protocol over :meth:`_frame` (``fetch_candles`` skips it)."""
        start_s = max(start_s, int(EPOCH.timestamp()))
        df = self._frame(validate_symbol(symbol), timeframe, step, start_s, end_s)
        seconds = df.index.as_unit("s").asi8
        return [(int(t), *map(float, row)) for t, row in zip(seconds, df[OHLCV].to_numpy())]

    def fetch_ticker(self, symbol: str) -> Ticker:
        """Latest DEMO close, change and base volume over the last 24 h of 1m bars."""
        symbol = validate_symbol(symbol)
        last = last_closed_minute(self.now())
        first = last - pd.Timedelta(minutes=MINUTES_PER_DAY)
        df = _generate([symbol], first, last, self.seed)[symbol]
        return ticker_from_candles(symbol, df)

