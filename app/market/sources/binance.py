"""Binance spot market data (public REST, no key).

Endpoints: ``GET /api/v3/klines`` (up to 1000 bars a page; rows are
``[open_time_ms, open, high, low, close, volume, close_time_ms, quote_volume,
trades, taker_base, taker_quote, ignore]`` with prices as strings),
``GET /api/v3/ticker/24hr`` and ``GET /api/v3/exchangeInfo``.
Symbols: ``BTC/USDT`` <-> ``BTCUSDT``. Errors: HTTP 400 ``{"code": -1121,
"msg": "Invalid symbol."}``; 429/418 with ``Retry-After``; the used request
weight comes back in ``X-MBX-USED-WEIGHT-1M`` and the client slows down near
the limit.
"""
from __future__ import annotations

from typing import Any, Iterator

import pandas as pd

from app.market.sources.base import Row, Source, Ticker, expect, split_symbol, to_float, to_int
from app.market.sources.errors import ExchangeError, RequestRejectedError, UnknownSymbolError
from app.marketdata import validate_symbol

NAME = "binance"
PAGE_LIMIT = 1000
WEIGHT_HEADER = "X-MBX-USED-WEIGHT-1M"
WEIGHT_LIMIT = 6000
# Quote assets used to split a Binance symbol when exchangeInfo is not at hand.
KNOWN_QUOTES = ("USDT", "USDC", "FDUSD", "TUSD", "BUSD", "DAI", "EUR", "GBP", "TRY", "BRL",
                "JPY", "BTC", "ETH", "BNB")


def to_binance_symbol(symbol: str) -> str:
    base, quote = split_symbol(symbol)
    return base + quote


def from_binance_symbol(raw: str, quotes: tuple[str, ...] = KNOWN_QUOTES) -> str:
    """``BTCUSDT`` -> ``BTC/USDT`` using the longest known quote suffix."""
    s = raw.strip().upper()
    for q in sorted(quotes, key=len, reverse=True):
        if s.endswith(q) and len(s) > len(q):
            return validate_symbol(f"{s[:-len(q)]}/{q}")
    raise ValueError(f"cannot split Binance symbol {raw!r}: unknown quote asset")


def map_error(status: int, payload: Any) -> ExchangeError | None:
    code = payload.get("code") if isinstance(payload, dict) else None
    msg = payload.get("msg") if isinstance(payload, dict) else str(payload)
    if code == -1121:
        return UnknownSymbolError(f"binance: unknown symbol ({msg})", exchange=NAME, status=status)
    return RequestRejectedError(f"binance: HTTP {status} code {code}: {msg}", exchange=NAME, status=status)


class BinanceSource(Source):
    name = NAME
    supported_timeframes = ("1m", "5m", "15m", "1h", "4h", "1d")

    def native_symbol(self, symbol: str) -> str:
        return to_binance_symbol(symbol)

    def _fetch_rows(self, symbol: str, timeframe: str, step: int, start_s: int, end_s: int) -> Iterator[Row]:
        pair = to_binance_symbol(symbol)
        cursor_ms = start_s * 1000
        end_ms = end_s * 1000 - 1  # endTime is inclusive
        while cursor_ms <= end_ms:
            page = self._get("/api/v3/klines", {
                "symbol": pair, "interval": timeframe, "startTime": cursor_ms,
                "endTime": end_ms, "limit": PAGE_LIMIT}, symbol)
            expect(isinstance(page, list), NAME, f"klines answer is {type(page).__name__}, expected a list")
            if not page:
                return
            last_open = cursor_ms - 1
            for i, row in enumerate(page):
                expect(isinstance(row, list) and len(row) >= 6, NAME,
                       f"kline #{i} is {row!r}, expected a list of at least 6 fields")
                open_ms = to_int(row[0], f"kline #{i} open time", NAME, "milliseconds")
                expect(open_ms % 1000 == 0, NAME, f"kline #{i} open time {open_ms} is not a whole second")
                last_open = max(last_open, open_ms)
                yield (open_ms // 1000,
                       *(to_float(row[k], f"kline #{i} {f}", NAME)
                         for k, f in ((1, "open"), (2, "high"), (3, "low"), (4, "close"), (5, "volume"))))
            if len(page) < PAGE_LIMIT:
                return
            nxt = last_open + step * 1000
            if nxt <= cursor_ms:
                return
            cursor_ms = nxt

    def fetch_ticker(self, symbol: str) -> Ticker:
        symbol = validate_symbol(symbol)
        d = self._get("/api/v3/ticker/24hr", {"symbol": to_binance_symbol(symbol)}, symbol)
        expect(isinstance(d, dict), NAME, f"ticker answer is {type(d).__name__}, expected an object")
        for key in ("lastPrice", "priceChangePercent", "volume", "closeTime"):
            expect(key in d, NAME, f"ticker answer lacks {key!r}")
        close_ms = to_int(d["closeTime"], "ticker closeTime", NAME, "milliseconds")
        return Ticker(
            symbol=symbol,
            price=to_float(d["lastPrice"], "lastPrice", NAME),
            change_24h_pct=to_float(d["priceChangePercent"], "priceChangePercent", NAME),
            volume_24h=to_float(d["volume"], "volume", NAME),
            time=pd.Timestamp(close_ms, unit="ms", tz="UTC").to_pydatetime(),
        )

    def list_symbols(self) -> list[str]:
        d = self._get("/api/v3/exchangeInfo", None)
        expect(isinstance(d, dict) and isinstance(d.get("symbols"), list), NAME,
               "exchangeInfo answer lacks a 'symbols' list")
        out = []
        for s in d["symbols"]:
            expect(isinstance(s, dict) and {"baseAsset", "quoteAsset", "status"} <= s.keys(), NAME,
                   f"exchangeInfo symbol entry {s!r} lacks baseAsset/quoteAsset/status")
            if s["status"] == "TRADING":
                try:
                    out.append(validate_symbol(f"{s['baseAsset']}/{s['quoteAsset']}"))
                except ValueError:
                    continue  # odd asset names we cannot represent
        return sorted(set(out))
