"""The encoded latest candles of a series, built once per version and sliced for every page inside them.

A candles request used to read its bars, build a frame and encode up to 10,000 rows of JSON each time
(about 90 ms of one core for 10,000 bars, most of it encoding). Pollers ask for the same latest bars
again and again, so the series' latest ``WINDOW`` bars are encoded once per *version* - JSON rows and
CSV lines, each with its byte offsets - and kept in hot state (``app.hot.blobs``, one blob per series).
A page inside the window is then a slice of those bytes; a page that needs older bars is read from the
database as before.

The version is the series' ``revision``, which ``app.market.store`` advances in the same transaction as
every write that changes one of its candles (the row path and both COPY paths; migration 0008e), so a new
bar, an updated forming bar, a corrected or back-filled bar all change it and a stale window is never
served; reading it is one indexed row. (It replaced an aggregate over the latest
10,001 bars, the largest cost of a poll.) The ETag of a window page is derived from the version and the
request, so ``If-None-Match`` is answered with a 304 before any bar is read.

Each process also keeps the last few decoded windows (``_LOCAL``, by series and version), so a poll of an
unchanged series does not fetch its blob from hot state again.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import select

from app.market.store import SERIES, load_candles

WINDOW = 10_000  # the largest page (CandleQuerySchema.limit); every latest page fits in the window
AREA = "api-candles"
LOCAL_MAX = 4  # decoded windows kept per process (about 3 MB each at 10,000 bars)
BODIES_MAX = 2  # whole response bodies kept per window (the latest page, JSON and CSV, the common polls)
_U8 = np.dtype(">u8")


def series_revision(conn, exchange: str, symbol: str, timeframe: str) -> tuple[int | None, int | None]:
    """(series id, its ``revision``): one indexed row of ``series`` ((None, None) when unknown)."""
    s = SERIES.c
    row = conn.execute(select(s.id, s.revision)
                       .where(s.exchange == exchange, s.symbol == symbol, s.timeframe == timeframe)).first()
    if row is None:
        return None, None
    return int(row[0]), int(row[1])


def version_of(revision: int | None) -> str:
    """The window's version at a series revision: the blob holds the latest ``WINDOW`` bars of it."""
    return "-" if revision is None else f"r{int(revision)}w{WINDOW}"


def request_etag(version: str, *parts) -> str:
    """The ETag of a page served from the window: the window's version and everything the request chose."""
    return hashlib.blake2b("|".join([version, *map(str, parts)]).encode(), digest_size=16).hexdigest()


def iso_times(times_us: np.ndarray) -> np.ndarray:
    """ISO-8601 UTC strings of epoch-microsecond bar times (numpy's formatter, several times faster than strftime)."""
    return np.char.add(np.datetime_as_string(np.asarray(times_us, dtype="int64").astype("datetime64[us]"), unit="s"),
                       "+00:00")


def table(frame: pd.DataFrame) -> pd.DataFrame:
    """A candle frame as the API's rows: ``time`` (ISO text) first, then OHLCV."""
    out = frame.reset_index()
    out["time"] = iso_times(frame.index.as_unit("us").asi8)
    return out


_ROW = '{"time":"%s","open":%s,"high":%s,"low":%s,"close":%s,"volume":%s}'


def json_body(frame: pd.DataFrame) -> bytes:
    """The frame's rows as JSON objects joined by commas (no brackets): the API's one encoding of candles.

    Numbers are Python's shortest round-trip form (``repr``), so a stored 40039.89 is sent as ``40039.89``
    and parses back to the very same float. (pandas' ``to_json(double_precision=15)``, used before, prints
    15 decimals: ``40039.889999999999418``, a third more bytes and digits that were never in the data.)"""
    values = frame[["open", "high", "low", "close", "volume"]].to_numpy("float64")
    if not np.isfinite(values).all():
        raise ValueError("candles must be finite to encode as JSON")
    cols = [list(map(float.__repr__, values[:, i].tolist())) for i in range(5)]
    times = iso_times(frame.index.as_unit("us").asi8).tolist()
    return ",".join([_ROW % row for row in zip(times, *cols)]).encode()


def json_rows(frame: pd.DataFrame) -> bytes:
    """The frame's rows as a JSON array."""
    return b"[" + json_body(frame) + b"]"


@dataclass(frozen=True)
class Window:
    """The latest bars of one series, encoded: ``json`` is ``{row},{row},...``, ``csv`` is ``line\\n line\\n ...``.

    It also keeps the last few whole response bodies built from it (:meth:`body`), so pollers asking for
    the same page of the same version get the same bytes without two more copies of a megabyte."""

    times: np.ndarray       # int64 epoch microseconds, ascending
    has_older: bool         # the series holds bars older than the window
    json: memoryview
    json_ends: np.ndarray   # row i is json[json_ends[i-1] + 1 : json_ends[i]] (the comma between skipped)
    csv: memoryview
    csv_ends: np.ndarray    # line i is csv[csv_ends[i-1] : csv_ends[i]] (its newline included)
    bodies: OrderedDict = field(default_factory=OrderedDict, compare=False, repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    def body(self, key, build) -> bytes:
        """The response body for ``key`` (a page and its format), built by ``build()`` once per window."""
        with self.lock:
            found = self.bodies.get(key)
            if found is not None:
                self.bodies.move_to_end(key)
                return found
        found = build()
        with self.lock:
            self.bodies[key] = found
            while len(self.bodies) > BODIES_MAX:
                self.bodies.popitem(last=False)
        return found

    def json_slice(self, i: int, j: int) -> bytes:
        if j <= i:
            return b""
        start = 0 if i == 0 else int(self.json_ends[i - 1]) + 1
        return bytes(self.json[start:int(self.json_ends[j - 1])])

    def csv_slice(self, i: int, j: int) -> bytes:
        if j <= i:
            return b""
        start = 0 if i == 0 else int(self.csv_ends[i - 1])
        return bytes(self.csv[start:int(self.csv_ends[j - 1])])


def encode(frame: pd.DataFrame, has_older: bool) -> bytes:
    """The blob of a window: ``n, has_older, json length`` (big-endian u64), times, both offset arrays, bodies."""
    rows = table(frame)
    body = json_body(frame)
    # rows hold numbers and ISO times only, so every "}" ends a row
    json_ends = np.flatnonzero(np.frombuffer(body, dtype=np.uint8) == ord("}")) + 1
    csv = rows.to_csv(index=False, header=False, lineterminator="\n").encode()
    csv_ends = np.flatnonzero(np.frombuffer(csv, dtype=np.uint8) == ord("\n")) + 1
    n = len(frame)
    if len(json_ends) != n or len(csv_ends) != n:
        raise ValueError("candle rows did not encode one row per bar")
    head = np.array([n, int(has_older), len(body)], dtype=_U8).tobytes()
    times = frame.index.as_unit("us").asi8.astype(_U8).tobytes()
    return head + times + json_ends.astype(_U8).tobytes() + csv_ends.astype(_U8).tobytes() + body + csv


def decode(blob) -> Window:
    view = memoryview(blob)
    n, has_older, json_len = (int(v) for v in np.frombuffer(view[:24], dtype=_U8))
    arrays = np.frombuffer(view[24:24 + 24 * n], dtype=_U8).reshape(3, n) if n else np.zeros((3, 0), dtype=_U8)
    body_at = 24 + 24 * n
    return Window(arrays[0].astype("int64"), bool(has_older), view[body_at:body_at + json_len], arrays[1].astype("int64"),
                  view[body_at + json_len:], arrays[2].astype("int64"))


def load(conn, series_id: int) -> tuple[pd.DataFrame, bool]:
    """The latest ``WINDOW`` bars and whether older ones exist (one read of ``WINDOW + 1`` bars)."""
    frame = load_candles(conn, series_id, limit=WINDOW + 1)
    if len(frame) > WINDOW:
        return frame.iloc[1:], True
    return frame, False


def page(times: np.ndarray, has_older: bool, start_us: int | None, end_us: int | None, limit: int
         ) -> tuple[int, int, bool] | None:
    """Rows ``[i, j)`` of the window that are the latest ``limit`` bars of ``[start, end)``, and whether older
    bars of the range exist (a next cursor); None when the answer needs bars older than the window."""
    n = len(times)
    if n == 0:
        return None if has_older else (0, 0, False)
    a = 0 if start_us is None else int(np.searchsorted(times, start_us, side="left"))
    b = n if end_us is None else int(np.searchsorted(times, end_us, side="left"))
    b = max(a, b)
    older_in_range = has_older and a == 0 and start_us is None       # surely more bars before the window
    maybe_older = has_older and a == 0 and start_us is not None and start_us < int(times[0])  # unknown here
    if b - a >= limit:
        i = b - limit
        if i > a:
            return i, b, True
        return None if maybe_older else (i, b, older_in_range)
    if older_in_range or maybe_older:
        return None
    return a, b, False


_LOCAL: OrderedDict[int, tuple[str, Window]] = OrderedDict()
_LOCAL_LOCK = threading.Lock()


def local(series_id: int, version: str) -> Window | None:
    """This process' decoded window of the series at ``version``, if it has it (most recently used)."""
    with _LOCAL_LOCK:
        held = _LOCAL.get(series_id)
        if held is None or held[0] != version:
            return None
        _LOCAL.move_to_end(series_id)
        return held[1]


def keep(series_id: int, version: str, win: Window) -> None:
    """Remember a decoded window (the least recently used one goes beyond ``LOCAL_MAX``)."""
    with _LOCAL_LOCK:
        _LOCAL[series_id] = (version, win)
        _LOCAL.move_to_end(series_id)
        while len(_LOCAL) > LOCAL_MAX:
            _LOCAL.popitem(last=False)
