"""A local fake of the Binance, Coinbase Exchange and Kraken public REST APIs.

One threaded HTTP server on 127.0.0.1 (ephemeral port) serves all three APIs
(their paths do not overlap) from in-memory candles, with the real response
shapes, so point ``binance_base_url``, ``coinbase_base_url`` and
``kraken_base_url`` at ``fake.base_url``::

    fake = FakeExchange({"BTC/USDT": candles_1m, "BTC/USD": candles_1m})
    url = fake.start()
    ...
    fake.stop()          # or: with FakeExchange(...) as fake:

Candles are canonical frames of ``base_timeframe`` bars (default 1m). Coarser
intervals are aggregated on the fly (epoch-aligned; buckets without data are
omitted). ``now`` (default: the close of the last base bar) decides which bar
is still forming: like the real exchanges, the fake INCLUDES that bar
(built from the base bars before ``now``; a flat zero-volume bar when none).

Scriptable faults: :meth:`fail_next` (status + optional ``Retry-After``; with
status 200 and ``body`` it serves any payload), :meth:`truncate_next` (valid
JSON cut short, HTTP 200), :meth:`delay_next` (slow answers), :meth:`reset_next` (the connection
reset without an answer), :meth:`garbage_next` (HTTP 200 with bytes that are not JSON), ``out_of_order`` and
``duplicate_rows`` flags for candle answers, ``used_weight`` (Binance's
``X-MBX-USED-WEIGHT-1M`` header). Every request is recorded in
:attr:`requests` (path + query parameters) so tests can assert pagination and
backoff.
"""
from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Mapping
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd

TF_SECONDS = {"1m": 60, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "4h": 14400, "1d": 86400}
KRAKEN_INTERVALS = {1: 60, 5: 300, 15: 900, 30: 1800, 60: 3600, 240: 14400, 1440: 86400}
COINBASE_GRANULARITIES = {60, 300, 900, 3600, 21600, 86400}
KRAKEN_NAMES = {"BTC": "XBT", "DOGE": "XDG"}
KRAKEN_LEGACY = {"XBT", "ETH", "LTC", "XRP", "XDG", "XLM", "XMR", "ETC", "ZEC"}
KRAKEN_FIAT = {"USD", "EUR", "GBP", "JPY", "CAD"}


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    params: dict[str, str]
    at: float  # time.monotonic() when received


@dataclass
class _Fault:
    kind: str          # "status" | "truncate" | "delay" | "reset" | "garbage"
    status: int = 200
    retry_after: float | str | None = None
    body: Any = None
    path: str | None = None  # only requests whose path starts with this
    delay_s: float = 0.0


def kraken_names(symbol: str) -> tuple[str, str, str]:
    """(result key, altname, wsname) the way Kraken names a pair, e.g. XXBTZUSD, XBTUSD, XBT/USD."""
    base, quote = symbol.split("/")
    b, q = KRAKEN_NAMES.get(base, base), KRAKEN_NAMES.get(quote, quote)
    key = (f"X{b}Z{q}" if b in KRAKEN_LEGACY and q in KRAKEN_FIAT else
           f"X{b}X{q}" if b in KRAKEN_LEGACY and q in KRAKEN_LEGACY else b + q)
    return key, b + q, f"{b}/{q}"


def _num(x: float) -> str:
    return repr(float(x))


class FakeExchange:
    def __init__(self, candles_by_symbol: Mapping[str, pd.DataFrame], *, base_timeframe: str = "1m",
                 now: pd.Timestamp | None = None):
        self.base_timeframe = base_timeframe
        self.base_step = TF_SECONDS[base_timeframe]
        self.candles = {s.upper(): df.sort_index() for s, df in candles_by_symbol.items()}
        if now is None:
            lasts = [df.index[-1] for df in self.candles.values() if len(df)]
            now = max(lasts) + pd.Timedelta(seconds=self.base_step) if lasts else pd.Timestamp.now(tz="UTC")
        self.now = pd.Timestamp(now).tz_convert("UTC")
        self.out_of_order = False
        self.duplicate_rows = False
        self.used_weight: int | None = None
        self._faults: deque[_Fault] = deque()
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # -- lifecycle ---------------------------------------------------------
    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_GET(self):  # noqa: N802
                fake._handle(self)

            def log_message(self, *args):  # keep test output quiet
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):  # a reset connection is the point, not news
                pass

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-exchange", daemon=True)
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "FakeExchange":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- scripting ---------------------------------------------------------
    def fail_next(self, n: int, status: int, retry_after: float | str | None = None,
                  body: Any = None, path: str | None = None) -> None:
        """The next ``n`` requests (optionally only under ``path``) answer ``status``."""
        with self._lock:
            for _ in range(n):
                self._faults.append(_Fault("status", status, retry_after, body, path))

    def truncate_next(self, n: int, path: str | None = None) -> None:
        """The next ``n`` requests answer HTTP 200 with their JSON cut in half."""
        with self._lock:
            for _ in range(n):
                self._faults.append(_Fault("truncate", path=path))

    def delay_next(self, n: int, seconds: float, path: str | None = None) -> None:
        """The next ``n`` requests answer normally but only after ``seconds`` (to test timeouts)."""
        with self._lock:
            for _ in range(n):
                self._faults.append(_Fault("delay", path=path, delay_s=seconds))

    def reset_next(self, n: int, path: str | None = None) -> None:
        """The next ``n`` requests get their connection reset (RST) without an answer."""
        with self._lock:
            for _ in range(n):
                self._faults.append(_Fault("reset", path=path))

    def garbage_next(self, n: int, path: str | None = None) -> None:
        """The next ``n`` requests answer HTTP 200 with bytes that are not JSON."""
        with self._lock:
            for _ in range(n):
                self._faults.append(_Fault("garbage", path=path))

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, path_prefix: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.startswith(path_prefix)]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    # -- data --------------------------------------------------------------
    def bars(self, symbol: str, step: int) -> pd.DataFrame:
        """Bars of ``step`` seconds up to and including the one forming at ``now``."""
        df = self.candles[symbol]
        df = df[df.index < self.now]
        now_s = int(self.now.timestamp())
        current = now_s - now_s % step
        if len(df):
            secs = df.index.as_unit("s").asi8
            keys = secs - secs % step
            g = df.groupby(keys)
            out = pd.DataFrame({"open": g["open"].first(), "high": g["high"].max(), "low": g["low"].min(),
                                "close": g["close"].last(), "volume": g["volume"].sum()})
        else:
            out = pd.DataFrame(columns=["open", "high", "low", "close", "volume"], dtype="float64")
        if current not in out.index and len(df):
            last = float(df["close"].iloc[-1])
            out.loc[current] = [last, last, last, last, 0.0]
        out = out.sort_index()
        out.index = out.index.astype("int64")
        return out

    def _last_24h(self, symbol: str) -> pd.DataFrame:
        df = self.candles[symbol]
        return df[(df.index < self.now) & (df.index >= self.now - pd.Timedelta(hours=24))]

    def _shape(self, rows: list, newest_first: bool = False, keep_last: bool = False) -> list:
        if newest_first:
            rows = rows[::-1]
        tail = [rows[-1]] if keep_last and rows else []
        body = rows[:-1] if keep_last and rows else rows
        if self.out_of_order and len(body) > 1:
            rng = np.random.default_rng(len(body))
            body = [body[i] for i in rng.permutation(len(body))]
        if self.duplicate_rows and body:
            body = body + body[: max(1, len(body) // 10)]
        return body + tail

    # -- HTTP --------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with self._lock:
            self._requests.append(RecordedRequest(parts.path, params, time.monotonic()))
            fault = None
            for f in self._faults:
                if f.path is None or parts.path.startswith(f.path):
                    fault = f
                    break
            if fault is not None:
                self._faults.remove(fault)
        headers: dict[str, str] = {}
        if parts.path.startswith("/api/v3/") and self.used_weight is not None:
            headers["X-MBX-USED-WEIGHT-1M"] = str(self.used_weight)
        if fault is not None and fault.kind == "status":
            if fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
            body = fault.body if fault.body is not None else self._default_error(parts.path, fault.status)
            return self._send(h, fault.status, json.dumps(body).encode(), headers)
        if fault is not None and fault.kind == "reset":
            import socket
            import struct

            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            h.close_connection = True
            h.connection.close()  # RST: the client sees "connection reset by peer"
            return None
        if fault is not None and fault.kind == "garbage":
            return self._send(h, 200, b"\x00\xffnot json <html>", headers)
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.delay_s)
        try:
            status, payload = self._route(parts.path, params)
        except Exception as exc:  # a bug in the fake: make it visible
            status, payload = 500, {"message": f"fake exchange error: {exc!r}"}
        raw = json.dumps(payload).encode()
        if fault is not None and fault.kind == "truncate":
            raw = raw[: max(1, len(raw) // 2)]
        self._send(h, status, raw, headers)

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, raw: bytes, headers: dict[str, str]) -> None:
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(raw)))
        for k, v in headers.items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(raw)

    @staticmethod
    def _default_error(path: str, status: int) -> Any:
        if path.startswith("/api/v3/"):
            return {"code": -1003, "msg": f"fake status {status}"}
        if path.startswith("/0/public/"):
            return {"error": [f"EService:fake status {status}"]}
        return {"message": f"fake status {status}"}

    def _route(self, path: str, p: dict[str, str]) -> tuple[int, Any]:
        if path == "/api/v3/klines":
            return self._binance_klines(p)
        if path == "/api/v3/ticker/24hr":
            return self._binance_ticker(p)
        if path == "/api/v3/exchangeInfo":
            return 200, {"timezone": "UTC", "serverTime": int(self.now.timestamp() * 1000),
                         "rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE",
                                         "intervalNum": 1, "limit": 6000}],
                         "exchangeFilters": [],
                         "symbols": [{"symbol": s.replace("/", ""), "status": "TRADING",
                                      "baseAsset": s.split("/")[0], "baseAssetPrecision": 8,
                                      "quoteAsset": s.split("/")[1], "quotePrecision": 8,
                                      "orderTypes": ["LIMIT", "MARKET"], "isSpotTradingAllowed": True}
                                     for s in self.candles]}
        if path == "/products":
            return 200, [{"id": s.replace("/", "-"), "base_currency": s.split("/")[0],
                          "quote_currency": s.split("/")[1], "display_name": s, "status": "online",
                          "trading_disabled": False} for s in self.candles]
        if path.startswith("/products/"):
            return self._coinbase(path, p)
        if path == "/0/public/OHLC":
            return self._kraken_ohlc(p)
        if path == "/0/public/Ticker":
            return self._kraken_ticker(p)
        if path == "/0/public/AssetPairs":
            result = {}
            for s in self.candles:
                key, alt, ws = kraken_names(s)
                b, q = ws.split("/")
                result[key] = {"altname": alt, "wsname": ws,
                               "base": f"X{b}" if b in KRAKEN_LEGACY else b,
                               "quote": f"Z{q}" if q in KRAKEN_FIAT else f"X{q}" if q in KRAKEN_LEGACY else q,
                               "pair_decimals": 1, "lot_decimals": 8}
            return 200, {"error": [], "result": result}
        return 404, {"message": "NotFound"}

    # Binance ---------------------------------------------------------------
    def _binance_symbol(self, raw: str | None) -> str | None:
        for s in self.candles:
            if raw and s.replace("/", "") == raw:
                return s
        return None

    def _binance_klines(self, p: dict[str, str]) -> tuple[int, Any]:
        sym = self._binance_symbol(p.get("symbol"))
        if sym is None:
            return 400, {"code": -1121, "msg": "Invalid symbol."}
        step = TF_SECONDS.get(p.get("interval", ""))
        if step is None:
            return 400, {"code": -1120, "msg": "Invalid interval."}
        limit = min(int(p.get("limit", 500)), 1000)
        bars = self.bars(sym, step)
        t_ms = bars.index.to_numpy() * 1000
        mask = np.ones(len(bars), dtype=bool)
        if "startTime" in p:
            mask &= t_ms >= int(p["startTime"])
        if "endTime" in p:
            mask &= t_ms <= int(p["endTime"])
        sel = bars[mask]
        sel = sel.iloc[:limit] if "startTime" in p else sel.iloc[-limit:]
        rows = [[int(t) * 1000, _num(r.open), _num(r.high), _num(r.low), _num(r.close), _num(r.volume),
                 int(t) * 1000 + step * 1000 - 1, _num(r.volume * r.close), 10, _num(r.volume / 2),
                 _num(r.volume * r.close / 2), "0"] for t, r in zip(sel.index, sel.itertuples())]
        return 200, self._shape(rows)

    def _binance_ticker(self, p: dict[str, str]) -> tuple[int, Any]:
        sym = self._binance_symbol(p.get("symbol"))
        if sym is None:
            return 400, {"code": -1121, "msg": "Invalid symbol."}
        d = self._last_24h(sym)
        o, c = float(d["open"].iloc[0]), float(d["close"].iloc[-1])
        now_ms = int(self.now.timestamp() * 1000)
        return 200, {"symbol": p["symbol"], "priceChange": _num(c - o),
                     "priceChangePercent": f"{(c - o) / o * 100:.3f}", "weightedAvgPrice": _num(c),
                     "prevClosePrice": _num(o), "lastPrice": _num(c), "lastQty": "0.1",
                     "bidPrice": _num(c), "bidQty": "1", "askPrice": _num(c), "askQty": "1",
                     "openPrice": _num(o), "highPrice": _num(d["high"].max()), "lowPrice": _num(d["low"].min()),
                     "volume": _num(d["volume"].sum()), "quoteVolume": _num((d["volume"] * d["close"]).sum()),
                     "openTime": now_ms - 86_400_000, "closeTime": now_ms - 1, "firstId": 1, "lastId": 2,
                     "count": len(d)}

    # Coinbase --------------------------------------------------------------
    def _coinbase(self, path: str, p: dict[str, str]) -> tuple[int, Any]:
        bits = path.split("/")  # ['', 'products', id, what]
        if len(bits) != 4:
            return 404, {"message": "NotFound"}
        sym = bits[2].replace("-", "/")
        if sym not in self.candles:
            return 404, {"message": "NotFound"}
        what = bits[3]
        if what == "candles":
            gran = int(p.get("granularity", 0))
            if gran not in COINBASE_GRANULARITIES:
                return 400, {"message": "Unsupported granularity"}
            bars = self.bars(sym, gran)
            if "start" in p and "end" in p:
                a = int(pd.Timestamp(p["start"]).timestamp())
                b = int(pd.Timestamp(p["end"]).timestamp())
                if (b - a) // gran + 1 > 300:
                    return 400, {"message": "granularity too small for the requested time range. "
                                            "Count of aggregations requested exceeds 300"}
                bars = bars[(bars.index >= a) & (bars.index <= b)]
            else:
                bars = bars.iloc[-300:]
            rows = [[int(t), float(r.low), float(r.high), float(r.open), float(r.close), float(r.volume)]
                    for t, r in zip(bars.index, bars.itertuples())]
            return 200, self._shape(rows, newest_first=True)
        d = self._last_24h(sym)
        if what == "ticker":
            c = float(d["close"].iloc[-1])
            return 200, {"ask": _num(c), "bid": _num(c), "volume": _num(d["volume"].sum()), "trade_id": 1,
                         "price": _num(c), "size": "0.01",
                         "time": self.now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
        if what == "stats":
            return 200, {"open": _num(d["open"].iloc[0]), "high": _num(d["high"].max()),
                         "low": _num(d["low"].min()), "last": _num(d["close"].iloc[-1]),
                         "volume": _num(d["volume"].sum()), "volume_30day": _num(d["volume"].sum() * 30)}
        return 404, {"message": "NotFound"}

    # Kraken ----------------------------------------------------------------
    def _kraken_symbol(self, raw: str | None) -> tuple[str, str] | None:
        for s in self.candles:
            key, alt, ws = kraken_names(s)
            if raw in (key, alt, ws):
                return s, key
        return None

    def _kraken_ohlc(self, p: dict[str, str]) -> tuple[int, Any]:
        found = self._kraken_symbol(p.get("pair"))
        if found is None:
            return 200, {"error": ["EQuery:Unknown asset pair"]}
        sym, key = found
        step = KRAKEN_INTERVALS.get(int(p.get("interval", 1)))
        if step is None:
            return 200, {"error": ["EGeneral:Invalid arguments"]}
        bars = self.bars(sym, step).iloc[-720:]
        last = int(bars.index[-2]) if len(bars) > 1 else 0
        if "since" in p:
            bars = bars[bars.index > int(p["since"])]
        rows = [[int(t), _num(r.open), _num(r.high), _num(r.low), _num(r.close), _num(r.close), _num(r.volume), 7]
                for t, r in zip(bars.index, bars.itertuples())]
        return 200, {"error": [], "result": {key: self._shape(rows, keep_last=True), "last": last}}

    def _kraken_ticker(self, p: dict[str, str]) -> tuple[int, Any]:
        found = self._kraken_symbol(p.get("pair"))
        if found is None:
            return 200, {"error": ["EQuery:Unknown asset pair"]}
        sym, key = found
        d = self._last_24h(sym)
        c = _num(d["close"].iloc[-1])
        midnight = self.now.normalize()
        today = self.candles[sym][(self.candles[sym].index >= midnight) & (self.candles[sym].index < self.now)]
        o = _num(today["open"].iloc[0]) if len(today) else c
        vol24 = _num(d["volume"].sum())
        return 200, {"error": [], "result": {key: {
            "a": [c, "1", "1.000"], "b": [c, "1", "1.000"], "c": [c, "0.01"],
            "v": [_num(today["volume"].sum()), vol24], "p": [c, c], "t": [len(today), len(d)],
            "l": [_num(d["low"].min()), _num(d["low"].min())], "h": [_num(d["high"].max()), _num(d["high"].max())],
            "o": o}}}
