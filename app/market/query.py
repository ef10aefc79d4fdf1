"""Read-side helpers for pages: which series exist, and recent candles for one of them.

Which exchange's series a page shows for a symbol is an explicit :class:`SeriesChoice` (the
watch-list's exchange by default, plus per-symbol picks from ``DISPLAY_SERIES``); without one, live
exchanges come before the offline demo set and imported files come last, whatever was written
last (:func:`app.market.origins.rank`). Every function takes the caller's connection or session;
the hot-state stores are passed in (None: read the database).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import pandas as pd

from app.hot.catalog import CatalogCache
from app.hot.live import LiveCache
from app.market import origins, store
from app.market.sources.demo import DEMO_EXCHANGE
from app.market.ticker import ticker_from_candles
from app.marketdata import TIMEFRAMES, Ticker, validate_symbol


@dataclass(frozen=True)
class Catalog:
    """Symbols and timeframes that have stored candles, with the exchange serving each symbol."""

    symbols: list[str]
    timeframes: dict[str, list[str]]  # symbol -> timeframes
    exchange: dict[str, str]  # symbol -> exchange used for display
    available: dict[str, list[str]] = field(default_factory=dict)  # symbol -> every exchange storing it

    def is_demo(self, symbol: str) -> bool:
        return self.exchange.get(symbol) == DEMO_EXCHANGE

    def origin(self, symbol: str) -> str:
        """``live``, ``demo`` or ``import``: where the displayed series of ``symbol`` comes from."""
        return origins.origin(self.exchange.get(symbol, ""))

    def label(self, symbol: str) -> str:
        return origins.label(self.exchange.get(symbol, "?"))


@dataclass(frozen=True)
class SeriesChoice:
    """Which exchange a page shows per symbol: ``per_symbol`` picks first, then ``default``, then the rank."""

    default: str | None = None
    per_symbol: Mapping[str, str] = field(default_factory=dict)

    def pick(self, symbol: str, available: list[str]) -> str:
        for wanted in (self.per_symbol.get(symbol), self.default):
            if wanted is not None and wanted in available:
                return wanted
        return min(available, key=lambda ex: (origins.rank(ex), ex))


def choice_from(settings) -> SeriesChoice:
    """The choice settings make: ``MARKET_DATA_SOURCE`` (unless ``auto``) and ``DISPLAY_SERIES``."""
    default = settings.market_source if settings.market_source != "auto" else None
    return SeriesChoice(default, dict(settings.display_series))


def catalog(conn, cache: CatalogCache | None = None, choice: SeriesChoice | None = None) -> Catalog:
    """What is stored, from the hot-state cache when it is warm (every page tick asks)."""
    rows = cache.read() if cache is not None else None
    if rows is None:
        rows = store.series_keys(conn)
        if cache is not None:
            cache.write(rows)
    return build_catalog(rows, choice)


def build_catalog(rows, choice: SeriesChoice | None = None) -> Catalog:
    """The catalogue of ``(exchange, symbol, timeframe)`` rows (pure); ``choice`` picks the exchange per symbol.
    Plain Python, as every page tick builds it: a pandas group-by cost tens of milliseconds per tick."""
    choice = choice or SeriesChoice()
    groups: dict[str, list[tuple[str, str]]] = {}
    for exchange, symbol, timeframe in rows:
        groups.setdefault(symbol, []).append((exchange, timeframe))
    symbols: list[str] = []
    tfs: dict[str, list[str]] = {}
    exch: dict[str, str] = {}
    available: dict[str, list[str]] = {}
    order = {tf: i for i, tf in enumerate(TIMEFRAMES)}
    for symbol in sorted(groups):
        group = groups[symbol]
        available[symbol] = sorted({str(e) for e, _ in group}, key=lambda ex: (origins.rank(ex), ex))
        exch[symbol] = choice.pick(symbol, available[symbol])
        tfs[symbol] = sorted((str(tf) for e, tf in group if e == exch[symbol]), key=lambda t: order.get(t, 99))
        symbols.append(symbol)
    return Catalog(symbols, tfs, exch, available)


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
