"""Read-side helpers for pages: which series exist, and recent candles for one of them.

Real exchange data is preferred over the offline demo set when both exist. Every function takes
the caller's connection or session; the hot-state stores are passed in (None: read the database).
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from app.hot.catalog import CatalogCache
from app.hot.live import LiveCache
from app.market import store
from app.market.sources.demo import DEMO_EXCHANGE
from app.market.ticker import ticker_from_candles
from app.marketdata import TIMEFRAMES, Ticker, validate_symbol


@dataclass(frozen=True)
class Catalog:
    """Symbols and timeframes that have stored candles, with the exchange serving each symbol."""

    symbols: list[str]
    timeframes: dict[str, list[str]]  # symbol -> timeframes
    exchange: dict[str, str]  # symbol -> exchange used for display

    def is_demo(self, symbol: str) -> bool:
        return self.exchange.get(symbol) == DEMO_EXCHANGE


def catalog(conn, cache: CatalogCache | None = None) -> Catalog:
    """What is stored, from the hot-state cache when it is warm (every page tick asks)."""
    rows = cache.read() if cache is not None else None
    if rows is None:
        rows = store.series_keys(conn)
        if cache is not None:
            cache.write(rows)
    return build_catalog(rows)


def build_catalog(rows) -> Catalog:
    """The catalogue of ``(exchange, symbol, timeframe)`` rows (pure; plain Python, as every page tick
    builds it: a pandas group-by cost tens of milliseconds per tick)."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for exchange, symbol, timeframe in rows:
        groups.setdefault(symbol, []).append((exchange, timeframe))
    symbols: list[str] = []
    tfs: dict[str, list[str]] = {}
    exch: dict[str, str] = {}
    order = {tf: i for i, tf in enumerate(TIMEFRAMES)}
    for symbol in sorted(groups):
        group = groups[symbol]
        chosen = [g for g in group if g[0] != DEMO_EXCHANGE] or group
        exch[symbol] = str(chosen[0][0])
        tfs[symbol] = sorted((str(tf) for e, tf in group if e == exch[symbol]), key=lambda t: order.get(t, 99))
        symbols.append(symbol)
    return Catalog(symbols, tfs, exch)


class UnknownSeries(ValueError):
    """The symbol or timeframe asked for has no stored candles; the message lists what exists."""


def resolve(cat: Catalog, symbol: str | None, timeframe: str | None) -> tuple[str, str]:
    """Validate a (symbol, timeframe) request against the catalog, with a readable error."""
    if not cat.symbols:
        raise UnknownSeries("No market data is stored yet. Run `make run` (it seeds demo data) or an ingest job.")
    try:
        sym = validate_symbol(symbol) if symbol else cat.symbols[0]
    except ValueError as exc:
        raise UnknownSeries(str(exc)) from None
    if sym not in cat.timeframes:
        raise UnknownSeries(f"Unknown symbol {sym!r}. Available: {', '.join(cat.symbols)}.")
    tfs = cat.timeframes[sym]
    tf = timeframe or ("1h" if "1h" in tfs else tfs[0])
    if tf not in tfs:
        raise UnknownSeries(f"No {tf!r} candles for {sym}. Available timeframes: {', '.join(tfs)}.")
    return sym, tf


def recent_candles(conn, cat: Catalog, symbol: str, timeframe: str, limit: int = 300,
                   cache: LiveCache | None = None) -> tuple[pd.DataFrame, str]:
    """The latest ``limit`` bars and where they came from (``"cache"`` or ``"database"``).

    The Redis live cache answers when it holds enough bars; a cold or short cache falls back to the database.
    """
    exchange = cat.exchange[symbol]
    if cache is not None:
        cached = cache.read_candles(exchange, symbol, timeframe, limit=limit)
        if cached is not None and len(cached) >= limit:
            return cached, "cache"
    series_id = store.find_series(conn, exchange, symbol, timeframe)
    if series_id is None:
        raise UnknownSeries(f"No {timeframe} candles for {symbol}.")
    return store.load_candles(conn, series_id, limit=limit), "database"


def tickers(conn, cat: Catalog, cache: LiveCache | None = None) -> list[Ticker]:
    """Latest price, 24h change and 24h volume per symbol: from the cache, else computed from stored 1m bars."""
    out: list[Ticker] = []
    for symbol in cat.symbols:
        exchange = cat.exchange[symbol]
        ticker = cache.read_ticker(exchange, symbol) if cache is not None else None
        if ticker is None and "1m" in cat.timeframes.get(symbol, []):
            day = store.load_candles(conn, store.find_series(conn, exchange, symbol, "1m"), limit=1441)
            if len(day):
                ticker = ticker_from_candles(symbol, day)
                if cache is not None:
                    cache.write_ticker(exchange, ticker)
        if ticker is not None:
            out.append(ticker)
    return out
