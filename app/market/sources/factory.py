"""Build a source from Settings, and fetch any timeframe (resampling when needed)."""
from __future__ import annotations

import random
import time
from datetime import datetime
from typing import Callable

import pandas as pd

from app.market.resample import resample_candles
from app.market.sources import binance, coinbase, kraken
from app.market.sources.base import Source, require_utc, utc_now
from app.market.sources.breaker import CircuitBreaker
from app.market.sources.http import HttpClient, RetryPolicy
from app.marketdata import TIMEFRAMES, timeframe_seconds
from app.settings import Settings

SOURCES: dict[str, tuple[type[Source], str, dict]] = {
    # name: (class, Settings attribute with the base URL, HttpClient options)
    "binance": (binance.BinanceSource, "binance_base_url",
                {"error_mapper": binance.map_error, "weight_header": binance.WEIGHT_HEADER,
                 "weight_limit": binance.WEIGHT_LIMIT}),
    "coinbase": (coinbase.CoinbaseSource, "coinbase_base_url",
                 {"error_mapper": coinbase.map_error, "min_interval_s": 0.1}),
    "kraken": (kraken.KrakenSource, "kraken_base_url",
               {"error_mapper": kraken.map_error, "min_interval_s": 1.0}),
}


def make_source(
    name: str,
    settings: Settings,
    *,
    breaker: CircuitBreaker | None = None,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    wall_clock: Callable[[], float] = time.time,
    clock: Callable[[], datetime] = utc_now,
    rng: Callable[[], float] = random.random,
    min_interval_s: float | None = None,
) -> Source:
    """A ready source for ``name`` (binance, coinbase, kraken) talking to the URL in ``settings``.

    Keep the returned source for the life of the worker; pass ``breaker`` (built on
    ``app.hot.breaker_storage``) so every process shares the exchange's breaker state.
    """
    key = name.strip().lower()
    if key not in SOURCES:
        raise ValueError(f"unknown market data source {name!r}; expected one of {', '.join(SOURCES)}")
    cls, url_attr, options = SOURCES[key]
    options = dict(options)
    if min_interval_s is not None:
        options["min_interval_s"] = min_interval_s
    http = HttpClient(
        getattr(settings, url_attr), name=key, timeout_s=settings.http_timeout_s,
        retry=retry, breaker=breaker or CircuitBreaker(key),
        sleep=sleep, clock=monotonic, wall_clock=wall_clock, rng=rng, **options)
    return cls(http, clock=clock)


def finest_supported(source: Source, timeframe: str) -> str:
    """The coarsest timeframe the source serves that divides ``timeframe`` evenly."""
    want = timeframe_seconds(timeframe)
    if source.supports(timeframe):
        return timeframe
    options = [tf for tf in source.supported_timeframes
               if tf in TIMEFRAMES and want % timeframe_seconds(tf) == 0]
    if not options:
        raise ValueError(f"{source.name} serves no timeframe that {timeframe} bars can be built from")
    return max(options, key=timeframe_seconds)


def fetch_candles_any(source: Source, symbol: str, timeframe: str,
                      since: datetime, until: datetime) -> pd.DataFrame:
    """Like ``source.fetch_candles`` but for any timeframe: when the exchange lacks it
    (Coinbase 4h) fetch the best finer one and resample, keeping only complete bars."""
    base = finest_supported(source, timeframe)
    if base == timeframe:
        return source.fetch_candles(symbol, timeframe, since, until)
    step = pd.Timedelta(seconds=timeframe_seconds(timeframe))
    start = require_utc(since, "since")
    end = require_utc(until, "until")
    aligned = pd.Timestamp((start.value // step.value) * step.value, unit="ns", tz="UTC")
    fine = source.fetch_candles(symbol, base, aligned.to_pydatetime(), end.to_pydatetime())
    out = resample_candles(fine, base, timeframe)
    # Open times in [since, until); resample_candles already dropped incomplete bars.
    return out[(out.index >= start) & (out.index < end)]
