"""Coinbase Exchange market data (public REST, no key).

Endpoints: ``GET /products/{id}/candles?granularity=&start=&end=`` (rows
``[time, low, high, open, close, volume]``, newest first, at most 300 per
request, empty buckets omitted, may include the bar still forming),
``GET /products/{id}/ticker``, ``GET /products/{id}/stats`` and
``GET /products``. Granularities are 60, 300, 900, 3600, 21600 and 86400
seconds: there is NO 4h, so ``supported_timeframes`` leaves it out and
callers resample from 1h (``fetch_candles_any``). Symbols: ``BTC/USD`` <->
``BTC-USD``. Unknown products answer HTTP 404 ``{"message": "NotFound"}``.
"""
from __future__ import annotations

from typing import Any, Iterator

import pandas as pd

from app.market.sources.base import Row, Source, Ticker, expect, split_symbol, to_float, to_int, windows
from app.market.sources.errors import (CircuitOpenError, ExchangeError, RateLimitedError, RequestRejectedError,
                                       UnknownSymbolError)
from app.marketdata import validate_symbol

NAME = "coinbase"
MAX_CANDLES = 300
GRANULARITY = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "1d": 86400}


def to_product_id(symbol: str) -> str:
    base, quote = split_symbol(symbol)
    return f"{base}-{quote}"


def from_product_id(product_id: str) -> str:
    parts = product_id.split("-")
    if len(parts) != 2:
        raise ValueError(f"invalid Coinbase product id {product_id!r}; expected BASE-QUOTE")
    return validate_symbol("/".join(parts))


def _iso(seconds: int) -> str:
    return pd.Timestamp(seconds, unit="s", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def map_error(status: int, payload: Any) -> ExchangeError | None:
    msg = payload.get("message") if isinstance(payload, dict) else str(payload)
    if status == 404:
        return UnknownSymbolError(f"coinbase: not found ({msg})", exchange=NAME, status=status)
    return RequestRejectedError(f"coinbase: HTTP {status}: {msg}", exchange=NAME, status=status)


class CoinbaseSource(Source):
    name = NAME
    supported_timeframes = tuple(GRANULARITY)

    def native_symbol(self, symbol: str) -> str:
        return f"product {to_product_id(symbol)}"

    def _fetch_rows(self, symbol: str, timeframe: str, step: int, start_s: int, end_s: int) -> Iterator[Row]:
        product = to_product_id(symbol)
        for a, b in windows(start_s, end_s, step, MAX_CANDLES):
            # start and end are both inclusive bucket times: ask for a .. last open before b.
            last = ((b - 1) // step) * step
            page = self._get(f"/products/{product}/candles", {
                "granularity": GRANULARITY[timeframe], "start": _iso(a), "end": _iso(last)}, symbol)
            expect(isinstance(page, list), NAME, f"candles answer is {type(page).__name__}, expected a list")
            for i, row in enumerate(page):
                expect(isinstance(row, list) and len(row) >= 6, NAME,
                       f"candle #{i} is {row!r}, expected [time, low, high, open, close, volume]")
                open_s = to_int(row[0], f"candle #{i} time", NAME, "seconds")
                low, high, open_, close, volume = (
                    to_float(row[k], f"candle #{i} {f}", NAME)
                    for k, f in ((1, "low"), (2, "high"), (3, "open"), (4, "close"), (5, "volume")))
                yield (open_s, open_, high, low, close, volume)

    def fetch_ticker(self, symbol: str) -> Ticker:
        """Price, time and 24h volume from ``/ticker``; the 24h open from ``/stats``.

        When ``/stats`` fails or lacks a usable ``open``, the change is measured from the
        first hourly candle of the last 24 hours instead (one more request); the volume
        never depends on ``/stats`` unless the ticker itself lacks it.
        """
        symbol = validate_symbol(symbol)
        product = to_product_id(symbol)
        t = self._get(f"/products/{product}/ticker", None, symbol)
        expect(isinstance(t, dict) and "price" in t and "time" in t, NAME,
               "ticker answer lacks 'price' or 'time'")
        price = to_float(t["price"], "ticker price", NAME)
        try:
            when = pd.Timestamp(t["time"])
            when = when.tz_localize("UTC") if when.tzinfo is None else when.tz_convert("UTC")
        except (TypeError, ValueError):
            expect(False, NAME, f"ticker time {t['time']!r} is not an ISO-8601 time")
        stats = self._stats(product, symbol)
        if t.get("volume") is not None:
            volume = to_float(t["volume"], "ticker volume", NAME)
        else:
            expect(stats is not None and stats.get("volume") is not None, NAME,
                   "neither the ticker nor /stats has a 24h volume")
            volume = to_float(stats["volume"], "stats volume", NAME)
        if stats is not None and stats.get("open") is not None:
            open_24h = to_float(stats["open"], "stats open", NAME)
        else:
            open_24h = self._open_24h_ago(symbol, when)
        return Ticker(
            symbol=symbol,
            price=price,
            change_24h_pct=(price - open_24h) / open_24h * 100.0 if open_24h else 0.0,
            volume_24h=volume,
            time=when.to_pydatetime(),
        )

    def _stats(self, product: str, symbol: str) -> dict | None:
        """``/stats`` as an object, or None when it fails (rate limits and an open breaker still propagate)."""
        try:
            s = self._get(f"/products/{product}/stats", None, symbol)
        except (RateLimitedError, CircuitOpenError):
            raise
        except ExchangeError:
            return None
        return s if isinstance(s, dict) else None

    def _open_24h_ago(self, symbol: str, when: pd.Timestamp) -> float:
        bars = self.fetch_candles(symbol, "1h", (when - pd.Timedelta(hours=24)).to_pydatetime(), when.to_pydatetime())
        expect(not bars.empty, NAME, "no /stats answer and no hourly candles for the last 24 h")
        return float(bars["open"].iloc[0])

    def list_symbols(self) -> list[str]:
        d = self._get("/products", None)
        expect(isinstance(d, list), NAME, "products answer is not a list")
        out = []
        for p in d:
            expect(isinstance(p, dict) and "id" in p, NAME, f"product entry {p!r} lacks 'id'")
            if p.get("status", "online") != "online" or p.get("trading_disabled", False):
                continue
            try:
                out.append(from_product_id(p["id"]))
            except ValueError:
                continue
        return sorted(set(out))
