"""Kraken spot market data (public REST, no key).

Endpoints: ``GET /0/public/OHLC?pair=&interval=&since=`` answers
``{"error": [], "result": {"XXBTZUSD": [[time, open, high, low, close, vwap,
volume, count], ...], "last": N}}`` with up to 720 of the MOST RECENT bars
(older history cannot be fetched, hence ``max_history_bars = 720``); its last
row is the current, not yet closed bar and is always dropped.
``GET /0/public/Ticker`` and ``GET /0/public/AssetPairs``.
Errors come with HTTP 200 in the ``error`` list, e.g. ``EQuery:Unknown asset
pair``; ``EService:Busy``/``EService:Unavailable``/``EAPI:Rate limit exceeded``
are retried with backoff. Kraken says ``XBT`` for BTC and ``XDG`` for DOGE.
Note: Kraken's ticker has no 24h open; ``change_24h_pct`` is measured from
today's opening price (00:00 UTC, field ``o``).
"""
from __future__ import annotations

from typing import Any, Iterator

from app.market.sources.base import Row, Source, Ticker, expect, split_symbol, to_float, to_int
from app.market.sources.errors import ExchangeError, RequestRejectedError, UnknownSymbolError
from app.market.sources.http import TransientError
from app.marketdata import validate_symbol

NAME = "kraken"
MAX_ROWS = 720
INTERVAL_MINUTES = {"1m": 1, "5m": 5, "15m": 15, "1h": 60, "4h": 240, "1d": 1440}
TO_KRAKEN = {"BTC": "XBT", "DOGE": "XDG"}
FROM_KRAKEN = {v: k for k, v in TO_KRAKEN.items()}
# Legacy asset codes carry an X (crypto) or Z (fiat) prefix: XXBT, XETH, ZUSD, ZEUR.
LEGACY_ASSETS = {"XXBT": "BTC", "XETH": "ETH", "XLTC": "LTC", "XXRP": "XRP", "XXDG": "DOGE",
                 "XXLM": "XLM", "XXMR": "XMR", "XETC": "ETC", "XZEC": "ZEC", "XMLN": "MLN",
                 "XREP": "REP", "ZUSD": "USD", "ZEUR": "EUR", "ZGBP": "GBP", "ZJPY": "JPY",
                 "ZCAD": "CAD", "ZAUD": "AUD", "ZCHF": "CHF"}
TRANSIENT_PREFIXES = ("EService:Unavailable", "EService:Busy", "EAPI:Rate limit exceeded",
                      "EGeneral:Temporary lockout")


def kraken_asset(code: str) -> str:
    """Our asset name for a Kraken asset code (``XXBT`` or ``XBT`` -> ``BTC``)."""
    c = code.upper()
    if c in LEGACY_ASSETS:
        return LEGACY_ASSETS[c]
    return FROM_KRAKEN.get(c, c)


def to_kraken_pair(symbol: str) -> str:
    """``BTC/USD`` -> ``XBTUSD`` (Kraken's altname, accepted by every public endpoint)."""
    base, quote = split_symbol(symbol)
    return TO_KRAKEN.get(base, base) + TO_KRAKEN.get(quote, quote)


def from_kraken_wsname(wsname: str) -> str:
    """``XBT/USD`` -> ``BTC/USD``."""
    parts = wsname.split("/")
    if len(parts) != 2:
        raise ValueError(f"invalid Kraken wsname {wsname!r}; expected BASE/QUOTE")
    return validate_symbol("/".join(kraken_asset(p) for p in parts))


def check_payload(payload: Any) -> None:
    """Kraken reports errors with HTTP 200: turn them into exceptions."""
    expect(isinstance(payload, dict) and isinstance(payload.get("error"), list), NAME,
           "answer lacks the 'error' list")
    errors = [str(e) for e in payload["error"]]
    if not errors:
        expect(isinstance(payload.get("result"), dict), NAME, "answer lacks the 'result' object")
        return
    joined = "; ".join(errors)
    if any(e.startswith("EQuery:Unknown asset pair") for e in errors):
        raise UnknownSymbolError(f"kraken: {joined}", exchange=NAME)
    if any(e.startswith(TRANSIENT_PREFIXES) for e in errors):
        raise TransientError(f"kraken: {joined}")
    raise RequestRejectedError(f"kraken: {joined}", exchange=NAME)


def map_error(status: int, payload: Any) -> ExchangeError | None:
    if isinstance(payload, dict) and isinstance(payload.get("error"), list) and payload["error"]:
        try:
            check_payload(payload)
        except ExchangeError as exc:
            exc.status = status
            return exc
        except TransientError:
            pass
    return RequestRejectedError(f"kraken: HTTP {status}: {str(payload)[:200]}", exchange=NAME, status=status)


def _pair_result(payload: dict) -> Any:
    keys = [k for k in payload["result"] if k != "last"]
    expect(len(keys) == 1, NAME, f"expected one pair in the result, got {keys}")
    return payload["result"][keys[0]]


class KrakenSource(Source):
    name = NAME
    supported_timeframes = tuple(INTERVAL_MINUTES)
    max_history_bars = MAX_ROWS

    payload_check = staticmethod(check_payload)

    def native_symbol(self, symbol: str) -> str:
        return f"pair {to_kraken_pair(symbol)}"

    def _fetch_rows(self, symbol: str, timeframe: str, step: int, start_s: int, end_s: int) -> Iterator[Row]:
        pair = to_kraken_pair(symbol)
        since = start_s - 1  # Kraken returns bars strictly after `since`
        while True:
            payload = self._get("/0/public/OHLC", {
                "pair": pair, "interval": INTERVAL_MINUTES[timeframe], "since": since}, symbol)
            rows = _pair_result(payload)
            expect(isinstance(rows, list), NAME, "OHLC rows are not a list")
            committed = rows[:-1]  # the last row is the bar still forming
            last_open = None
            for i, row in enumerate(committed):
                expect(isinstance(row, list) and len(row) >= 7, NAME,
                       f"OHLC row #{i} is {row!r}, expected [time, open, high, low, close, vwap, volume, count]")
                open_s = to_int(row[0], f"OHLC row #{i} time", NAME, "seconds")
                last_open = open_s if last_open is None else max(last_open, open_s)
                yield (open_s,
                       *(to_float(row[k], f"OHLC row #{i} {f}", NAME)
                         for k, f in ((1, "open"), (2, "high"), (3, "low"), (4, "close"), (6, "volume"))))
            # Kraken serves the most recent <= 720 bars in one answer; page on only if
            # it returned a full answer that stopped short of what we asked for.
            if last_open is None or len(rows) < MAX_ROWS or last_open + step >= end_s:
                return
            expect("last" in payload["result"], NAME, "a full OHLC answer lacks 'last' (where the next page starts)")
            nxt = to_int(payload["result"]["last"], "OHLC 'last'", NAME, "seconds")
            if nxt <= since:
                return
            since = nxt

    def fetch_ticker(self, symbol: str) -> Ticker:
        symbol = validate_symbol(symbol)
        d = _pair_result(self._get("/0/public/Ticker", {"pair": to_kraken_pair(symbol)}, symbol))
        expect(isinstance(d, dict), NAME, "ticker entry is not an object")
        for key in ("c", "v", "o"):
            expect(key in d, NAME, f"ticker entry lacks {key!r}")
        expect(isinstance(d["c"], list) and d["c"] and isinstance(d["v"], list) and len(d["v"]) >= 2,
               NAME, "ticker 'c' or 'v' is not the documented list")
        price = to_float(d["c"][0], "ticker last price", NAME)
        open_today = to_float(d["o"], "ticker open", NAME)
        return Ticker(
            symbol=symbol,
            price=price,
            change_24h_pct=(price - open_today) / open_today * 100.0 if open_today else 0.0,
            volume_24h=to_float(d["v"][1], "ticker 24h volume", NAME),
            time=self.now().to_pydatetime(),
        )

    def list_symbols(self) -> list[str]:
        payload = self._get("/0/public/AssetPairs", None)
        out = []
        for key, info in payload["result"].items():
            expect(isinstance(info, dict), NAME, f"AssetPairs entry {key!r} is not an object")
            ws = info.get("wsname")
            if not ws:  # dark-pool pairs (".d") have no wsname
                continue
            try:
                out.append(from_kraken_wsname(ws))
            except ValueError:
                continue
        return sorted(set(out))

