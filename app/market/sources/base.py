"""The interface every exchange source implements, plus shared helpers.

A source answers three questions:

* :meth:`Source.fetch_candles` – the CLOSED bars whose open time lies in the
  half-open range ``[since, until)``, as a canonical candle frame (tz-aware UTC
  ``DatetimeIndex`` named ``time`` = bar open time; float64 ``open high low
  close volume``), sorted, one row per open time (when an exchange repeats a
  bar the last copy wins);
* :meth:`Source.fetch_ticker` – the latest price and 24h figures;
* :meth:`Source.list_symbols` – tradable symbols as ``BASE/QUOTE``.

Subclasses implement ``_fetch_rows`` (raw ``(open_seconds, o, h, l, c, v)``
tuples, possibly unsorted / duplicated / outside the range) and the rest is
done here. ``supported_timeframes`` says which widths the exchange serves
natively; for others use :func:`app.market.sources.factory.fetch_candles_any`,
which fetches a finer width and resamples.
"""
from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, ClassVar, Iterable, Sequence

import numpy as np
import pandas as pd

from app.market.sources.errors import BadPayloadError, UnknownSymbolError, UnsupportedTimeframeError
from app.market.sources.http import HttpClient
from app.marketdata import OHLCV, Ticker, empty_candles, require_utc, timeframe_seconds, validate_symbol

Row = tuple[int, float, float, float, float, float]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def to_float(value: Any, what: str, exchange: str) -> float:
    """A finite float from a number or numeric string, else BadPayloadError."""
    if isinstance(value, bool):
        raise BadPayloadError(f"{exchange}: {what} is a boolean, expected a number", exchange=exchange)
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise BadPayloadError(f"{exchange}: {what} is {value!r}, expected a number",
                              exchange=exchange) from None
    if not math.isfinite(f):
        raise BadPayloadError(f"{exchange}: {what} is {value!r}, expected a finite number",
                              exchange=exchange)
    return f


_INT_TEXT = re.compile(r"[+-]?[0-9]+")


def to_int(value: Any, what: str, exchange: str, unit: str = "") -> int:
    """An integer from an int, an integral float or an integer-valued string (exchanges mix them).

    Non-integral numbers, booleans and any other text are a BadPayloadError naming the field;
    ``unit`` (e.g. ``"seconds"``) is added to the message.
    """
    integral = None
    if isinstance(value, bool):
        integral = None
    elif isinstance(value, int):
        integral = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        integral = int(value)
    elif isinstance(value, str) and _INT_TEXT.fullmatch(value.strip()):
        integral = int(value.strip())
    if integral is None:
        of = f" of {unit}" if unit else ""
        raise BadPayloadError(f"{exchange}: {what} {value!r} is not an integer{of}", exchange=exchange)
    return integral


def expect(cond: bool, exchange: str, message: str) -> None:
    if not cond:
        raise BadPayloadError(f"{exchange}: {message}", exchange=exchange)


def rows_to_frame(rows: Iterable[Row]) -> pd.DataFrame:
    """Raw rows to a canonical frame: sorted by open time, duplicates -> last one wins."""
    rows = list(rows)
    if not rows:
        return empty_candles()
    arr = np.asarray([r[1:] for r in rows], dtype="float64")
    idx = pd.DatetimeIndex(pd.to_datetime([r[0] for r in rows], unit="s", utc=True), name="time").as_unit("ns")
    df = pd.DataFrame(arr, index=idx, columns=OHLCV)
    df = df[~df.index.duplicated(keep="last")]
    return df.sort_index(kind="stable")


class Source(ABC):
    """One exchange. Construct through :func:`app.market.sources.factory.make_source`."""

    name: ClassVar[str]
    supported_timeframes: ClassVar[tuple[str, ...]]
    # Oldest bar reachable, in bars back from now (Kraken: 720); None = full history.
    max_history_bars: ClassVar[int | None] = None

    def __init__(self, http: HttpClient, *, clock: Callable[[], datetime] = utc_now):
        self.http = http
        self._clock = clock

    def close(self) -> None:
        self.http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def now(self) -> pd.Timestamp:
        return require_utc(self._clock(), "clock()")

    # -- HTTP ----------------------------------------------------------------
    # Checks an exchange's JSON body for errors it reports with HTTP 200 (Kraken); None: none.
    payload_check: ClassVar[Callable[[Any], None] | None] = None

    def native_symbol(self, symbol: str) -> str:
        """How the exchange names ``symbol`` (for error messages)."""
        return symbol

    def _get(self, path: str, params: dict | None, symbol: str | None = None) -> Any:
        """GET JSON; an unknown-symbol answer names the symbol in our and the exchange's spelling."""
        try:
            return self.http.get_json(path, params, check=type(self).payload_check)
        except UnknownSymbolError as exc:
            if not symbol:
                raise
            raise UnknownSymbolError(
                f"{self.name} does not list {symbol} ({self.native_symbol(symbol)}); "
                f"see list_symbols() for what it trades", exchange=self.name, status=exc.status) from None

    # -- candles -----------------------------------------------------------
    def supports(self, timeframe: str) -> bool:
        return timeframe in self.supported_timeframes

    def fetch_candles(self, symbol: str, timeframe: str, since: datetime, until: datetime) -> pd.DataFrame:
        """Closed bars with open time in ``[since, until)``; see the module docstring."""
        symbol = validate_symbol(symbol)
        step = timeframe_seconds(timeframe)  # ValueError for unknown names
        if not self.supports(timeframe):
            raise UnsupportedTimeframeError(
                f"{self.name} has no {timeframe} candles (it serves {', '.join(self.supported_timeframes)}); "
                f"fetch a finer timeframe and resample (fetch_candles_any does this)",
                exchange=self.name)
        start = require_utc(since, "since")
        end = require_utc(until, "until")
        if end <= start:
            raise ValueError(f"until ({end.isoformat()}) must be after since ({start.isoformat()})")
        now = self.now()
        # Only bars that have closed: open + step <= now.
        last_open_allowed = int(now.timestamp()) - step
        end_s = min(int(math.ceil(end.timestamp())), last_open_allowed + 1)
        start_s = int(math.ceil(start.timestamp()))
        if end_s <= start_s:
            return empty_candles()
        # rows outside the asked range are dropped before they become timestamps: an exchange's garbage
        # open time (year 2465, say) would otherwise overflow pandas' datetimes instead of being ignored
        rows = (r for r in self._fetch_rows(symbol, timeframe, step, start_s, end_s) if start_s <= r[0] < end_s)
        df = rows_to_frame(rows)
        if df.empty:
            return df
        secs = df.index.as_unit("s").asi8
        keep = (secs >= start_s) & (secs < end_s) & (secs % step == 0)
        return df[keep]

    @abstractmethod
    def _fetch_rows(self, symbol: str, timeframe: str, step: int, start_s: int, end_s: int) -> Iterable[Row]:
        """Rows for open times in ``[start_s, end_s)`` (epoch seconds); extra rows are filtered."""

    # -- other endpoints ---------------------------------------------------
    @abstractmethod
    def fetch_ticker(self, symbol: str) -> Ticker: ...

    @abstractmethod
    def list_symbols(self) -> list[str]: ...


def split_symbol(symbol: str) -> tuple[str, str]:
    base, quote = validate_symbol(symbol).split("/")
    return base, quote


def windows(start_s: int, end_s: int, step: int, max_bars: int) -> Sequence[tuple[int, int]]:
    """Consecutive ``[a, b)`` ranges of at most ``max_bars`` bars covering ``[start_s, end_s)``."""
    out = []
    a = -(-start_s // step) * step  # first aligned open time >= start_s
    while a < end_s:
        b = min(a + max_bars * step, end_s)
        out.append((a, b))
        a = b
    return out
