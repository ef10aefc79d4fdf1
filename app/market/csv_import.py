"""Parse a user's candle file (CSV or Parquet) into a canonical candle frame.

Columns (names are case-insensitive, surrounding spaces ignored, extra columns
ignored): one time column – ``time``, ``timestamp``, ``open_time``, ``date``
or ``datetime`` (first found in that order) – and ``open high low close
volume``.

Times: ISO-8601 text with an offset is converted to UTC; without an offset it
is taken AS UTC. Plain numbers are epoch times whose unit is detected per value
from the magnitude (seconds < 1e11 <= milliseconds < 1e14 <= microseconds); a
file must use one unit – rows in a minority unit are reported. Parquet
datetime columns (or a DatetimeIndex) are used as they are (naive -> UTC).

Files are read in chunks of ``CHUNK_ROWS`` candle lines (:func:`iter_candle_chunks`), so memory
stays bounded however large the file is; repeated times are found across chunks. Times must lie
between ``MIN_TIME`` and one day after now; anything else (``9999-01-01``) is a bad row with its line.

All-or-nothing: every bad row is reported as ``(line, reason)`` in
:class:`CandleFileError` and nothing is returned. CSV line numbers are the
physical lines of the file (the header is line 1); Parquet "lines" are 1-based
row numbers. Rows are checked like :func:`app.market.validate.validate_candles`
(finite numbers, prices > 0, volume >= 0, ``low <= min(open, close)``,
``max(open, close) <= high``, aligned to ``timeframe`` when given) and a
repeated time is an error naming the earlier line. The result is sorted by time.

:func:`parse_candle_file_partial` (CSV only) is what ``flask candles import
--partial`` does: the lines that fail are dropped and listed, the rest is
parsed again; problems that are not about a candle line (encoding, header,
missing columns) still raise.
"""
from __future__ import annotations

import csv
import io
import itertools
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any, Iterator

import numpy as np
import pandas as pd

from app.marketdata import OHLCV, timeframe_seconds
from app.market.validate import row_problems

TIME_COLUMNS = ("time", "timestamp", "open_time", "date", "datetime")
MAX_LISTED = 20
PARQUET_MAGIC = b"PAR1"
# Epoch magnitudes: below 1e11 is seconds (until year 5138), below 1e14 milliseconds, below 1e17 µs.
UNIT_BOUNDS = ((1e11, "s"), (1e14, "ms"), (1e17, "us"))
UNIT_NS = {"s": 10**9, "ms": 10**6, "us": 10**3}
CHUNK_ROWS = 100_000  # candle lines parsed, checked and written at a time
MIN_TIME = pd.Timestamp("1970-01-01T00:00:00Z")
MAX_NS = float(np.iinfo(np.int64).max)  # epoch nanoseconds a time column can hold
FUTURE_SLACK = timedelta(days=1)  # a bar may open at most this far after now (clock skew, time zones)
_YEAR = re.compile(r"^\s*([+-]?\d+)-")


class CandleFileError(ValueError):
    """The file cannot be imported; ``errors`` lists every ``(line, reason)``."""

    def __init__(self, errors: list[tuple[int, str]], source: str = "file"):
        self.errors = errors
        shown = "; ".join(f"line {ln}: {why}" for ln, why in errors[:MAX_LISTED])
        more = len(errors) - min(len(errors), MAX_LISTED)
        msg = f"{source}: {len(errors)} problem(s): {shown}" + (f"; ... and {more} more" if more else "")
        super().__init__(msg)


# -- reading -----------------------------------------------------------------
@dataclass
class Chunk:
    """One chunk of a file: its valid rows (sorted by time), its bad lines, and how many candle lines it had."""

    frame: pd.DataFrame
    rejected: list[tuple[int, str]]
    rows: int


@dataclass
class _FileState:
    """What later chunks need from earlier ones: the file's epoch unit and the times seen (with their lines)."""

    unit: str | None = None
    times: np.ndarray = field(default_factory=lambda: np.empty(0, dtype="int64"))
    lines: np.ndarray = field(default_factory=lambda: np.empty(0, dtype="int64"))
    max_time: pd.Timestamp = field(default_factory=lambda: pd.Timestamp(datetime.now(timezone.utc) + FUTURE_SLACK))


def _source_name(src: Any) -> str:
    if isinstance(src, (str, os.PathLike)):
        return Path(src).name
    return str(getattr(src, "name", "upload")) if hasattr(src, "read") else "upload"


def _open_binary(src: Any) -> IO[bytes]:
    """A binary file object for a path, bytes or a (text or binary) file object; paths are opened, not read."""
    if isinstance(src, (str, os.PathLike)):
        p = Path(src)
        if not p.is_file():
            raise CandleFileError([(0, f"no such file: {p}")], str(p))
        return open(p, "rb")
    if isinstance(src, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(src))
    if hasattr(src, "read"):
        probe = src.read(0)
        if isinstance(probe, str):  # a text stream: encode it line by line as it is read
            return _EncodedText(src)
        return src
    raise ValueError(f"expected a path, bytes or a file object, got {type(src).__name__}")


class _EncodedText(io.RawIOBase):
    """A text stream seen as UTF-8 bytes (read lazily)."""

    def __init__(self, text: IO[str]):
        self.text = text
        self.pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        while len(self.pending) < len(buf):
            more = self.text.read(65536)
            if not more:
                break
            self.pending += more.encode("utf-8")
        n = min(len(buf), len(self.pending))
        buf[:n], self.pending = self.pending[:n], self.pending[n:]
        return n


def _peek_format(fh: IO[bytes], name: str, file_format: str | None) -> str:
    fmt = (file_format or "").lower()
    if fmt and fmt not in ("csv", "parquet"):
        raise ValueError(f"file_format must be 'csv' or 'parquet', got {file_format!r}")
    if fmt:
        return fmt
    if name.lower().endswith((".parquet", ".pq")):
        return "parquet"
    if fh.seekable():
        pos = fh.tell()
        magic = fh.read(4)
        fh.seek(pos)
        return "parquet" if magic == PARQUET_MAGIC else "csv"
    return "csv"


_LONE_CR = re.compile(r"(?<=\r)(?!\n)")  # after a carriage return that ends a line by itself (old Mac files)


def _decoded_lines(fh: IO[bytes], name: str) -> Iterator[str]:
    """The file's physical lines as text (UTF-8, a leading BOM dropped); a bad byte names its line.

    A line ends at ``\n``, ``\r\n`` or a lone ``\r`` (the csv module refuses a bare ``\r`` inside a line)."""
    for number, raw in enumerate(fh, start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise CandleFileError([(number, "not UTF-8 text")], name) from None
        if "\r" in text.rstrip("\r\n") or text.endswith("\r"):
            yield from (part for part in _LONE_CR.split(text) if part)
        else:
            yield text


def _csv_chunks(fh: IO[bytes], name: str, chunk_rows: int
                ) -> Iterator[tuple[list[str], int, list[list[str]], list[int], list[tuple[int, str]]]]:
    """``(header, header line, rows, their line numbers, wrong-field-count lines)`` per chunk of at most
    ``chunk_rows`` lines (physical line numbers: blank lines count)."""
    lines = _decoded_lines(fh, name)
    pre: list[str] = []
    for line in lines:
        pre.append(line)
        if line.strip():
            break
    if not pre or not pre[-1].strip():
        raise CandleFileError([(1, "the file is empty (no header line)")], name)
    try:
        delimiter = csv.Sniffer().sniff(pre[-1], delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(itertools.chain(pre, lines), delimiter=delimiter)
    try:
        yield from _reader_chunks(reader, name, chunk_rows)
    except csv.Error as exc:  # e.g. a field over the csv module's size limit
        raise CandleFileError([(max(reader.line_num, 1), f"malformed CSV: {exc}")], name) from None


def _reader_chunks(reader, name: str, chunk_rows: int):
    """The chunks of :func:`_csv_chunks` from its csv reader."""
    header: list[str] | None = None
    header_line = 1
    rows: list[list[str]] = []
    numbers: list[int] = []
    bad: list[tuple[int, str]] = []
    sent = False
    for fields in reader:
        line = reader.line_num
        if not fields or all(not f.strip() for f in fields):
            continue  # blank line
        if header is None:
            header, header_line = [f.strip().lower() for f in fields], line
            continue
        if len(fields) != len(header):
            bad.append((line, f"expected {len(header)} fields, found {len(fields)}"))
        else:
            rows.append(fields)
            numbers.append(line)
        if len(rows) + len(bad) >= chunk_rows:
            yield header, header_line, rows, numbers, bad
            rows, numbers, bad, sent = [], [], [], True
    if header is None:  # pragma: no cover - the first non-blank line is the header
        raise CandleFileError([(1, "the file is empty (no header line)")], name)
    if rows or bad or not sent:
        yield header, header_line, rows, numbers, bad


def text_line(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _pick_columns(header: list[str], name: str, header_line: int) -> tuple[str, dict[str, str]]:
    cols = {h.strip().lower(): h for h in header}
    time_col = next((c for c in TIME_COLUMNS if c in cols), None)
    missing = [c for c in OHLCV if c not in cols]
    problems = []
    if time_col is None:
        problems.append(f"no time column (expected one of {', '.join(TIME_COLUMNS)})")
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    if problems:
        raise CandleFileError([(header_line, "; ".join(problems))], name)
    return cols[time_col], {c: cols[c] for c in OHLCV}


# -- time parsing ------------------------------------------------------------
def _parse_times(raw: pd.Series, state: _FileState | None = None) -> tuple[pd.DatetimeIndex, list[str | None]]:
    """UTC times (NaT where bad) and a per-row reason (None where fine)."""
    state = state or _FileState()
    n = len(raw)
    reasons: list[str | None] = [None] * n
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        s = raw.dt.tz_localize("UTC") if raw.dt.tz is None else raw.dt.tz_convert("UTC")
        for i in np.flatnonzero(s.isna().to_numpy()):
            reasons[i] = "time is missing"
        idx = pd.DatetimeIndex(s.dt.as_unit("ns"), name="time")
        return _in_range(idx, reasons, raw, state)

    text = raw.astype("string").str.strip()
    nums = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    numeric = np.isfinite(nums)
    out = np.full(n, np.iinfo("int64").min, dtype="int64")  # NaT

    if numeric.any():
        mags = np.abs(nums[numeric])
        units = np.full(mags.shape, "", dtype=object)
        for bound, unit in reversed(UNIT_BOUNDS):
            units[mags < bound] = unit
        if state.unit is None:
            vals, counts = np.unique(units[units != ""], return_counts=True)
            state.unit = str(vals[np.argmax(counts)]) if len(vals) else None
        file_unit = state.unit
        pos = np.flatnonzero(numeric)
        for j, i in enumerate(pos):
            u = units[j]
            if u == "":
                reasons[i] = f"epoch time {text.iloc[i]} is too large for seconds, milliseconds or microseconds"
            elif u != file_unit:
                reasons[i] = (f"epoch time {text.iloc[i]} looks like {u} but the rest of the file "
                              f"uses {file_unit}")
            elif nums[i] < 0:
                reasons[i] = f"epoch time {text.iloc[i]} is negative"
            elif nums[i] * UNIT_NS[u] >= MAX_NS:  # after 2262: no nanosecond time (was an OverflowError)
                reasons[i] = _range_reason(text.iloc[i], state)
            else:
                out[i] = int(round(nums[i] * UNIT_NS[u]))

    textual = ~numeric
    if textual.any():
        # years outside what a nanosecond timestamp holds (9999-01-01) would make the whole parse raise
        years = pd.to_numeric(text[textual].str.extract(_YEAR, expand=False), errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan)
        far = (years < MIN_TIME.year) | (years > state.max_time.year)
        # "now", "today", a bare "12:00": pandas reads them against the wall clock (app.validation.names_a_date)
        shown = text[textual]
        blank = (shown.isna() | (shown == "")).fillna(True).to_numpy(dtype=bool)  # "time is missing" below
        undated = ~blank & ~shown.str.contains(r"\d{4}", regex=True).fillna(False).to_numpy(dtype=bool)
        pos_all = np.flatnonzero(textual)
        for i in pos_all[far]:
            reasons[i] = _range_reason(raw.iloc[i], state)
        for i in pos_all[undated & ~far]:
            reasons[i] = f"time {str(raw.iloc[i])!r} is neither ISO-8601 nor an epoch number"
        pos = pos_all[~far & ~undated]
        parsed = _to_datetime(text.iloc[pos])
        pvals = parsed.dt.as_unit("ns").astype("int64", copy=False).to_numpy() if len(parsed) else []
        isna = parsed.isna().to_numpy()
        for j, i in enumerate(pos):
            if isna[j]:
                v = raw.iloc[i]
                reasons[i] = ("time is missing" if v is None or (isinstance(v, str) and not v.strip())
                              or (isinstance(v, float) and np.isnan(v))
                              else f"time {str(v)!r} is neither ISO-8601 nor an epoch number")
            else:
                out[i] = pvals[j]
    idx = pd.DatetimeIndex(pd.to_datetime(out, unit="ns", utc=True), name="time")
    return _in_range(idx, reasons, raw, state)


def _to_datetime(text: pd.Series) -> pd.Series:
    try:
        return pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    except (OverflowError, pd.errors.OutOfBoundsDatetime):  # one value out of range: find it value by value
        def one(v):
            try:
                return pd.to_datetime(v, format="ISO8601", utc=True)
            except (ValueError, OverflowError, pd.errors.OutOfBoundsDatetime):
                return pd.NaT
        return pd.Series([one(v) for v in text], index=text.index, dtype="datetime64[ns, UTC]")


def _range_reason(value, state: _FileState) -> str:
    return (f"time {str(value).strip()!r} is out of range (bars must open between {MIN_TIME:%Y-%m-%d} "
            f"and {state.max_time:%Y-%m-%d})")


def _in_range(idx: pd.DatetimeIndex, reasons: list, raw: pd.Series, state: _FileState):
    ok = ~np.asarray(idx.isna())
    out = ok & ((np.asarray(idx < MIN_TIME)) | np.asarray(idx > state.max_time))
    if out.any():
        for i in np.flatnonzero(out):
            reasons[i] = _range_reason(raw.iloc[i], state)
        values = idx.asi8.copy()
        values[out] = np.iinfo("int64").min
        idx = pd.DatetimeIndex(pd.to_datetime(values, unit="ns", utc=True), name="time")
    return idx, reasons


# -- checking one chunk ------------------------------------------------------
def _check_chunk(frame: pd.DataFrame, lines: list[int], name: str, header_line: int, timeframe: str | None,
                 state: _FileState, extra: list[tuple[int, str]] = ()) -> Chunk:
    time_col, ohlcv_cols = _pick_columns(list(frame.columns), name, header_line)
    times, time_reasons = _parse_times(frame[time_col], state)
    raw = pd.DataFrame({c: frame[src].to_numpy() for c, src in ohlcv_cols.items()}, index=times)
    values = raw.apply(lambda s: pd.to_numeric(s, errors="coerce")).astype("float64")
    value_reasons = row_problems(values, timeframe, raw=raw)
    del raw

    problems: dict[int, list[str]] = {}
    for i, why in enumerate(time_reasons):
        if why:
            problems[i] = [why]
    for i, rs in value_reasons.items():
        rest = [r for r in rs if r != "open time is missing"]  # already said by time_reasons
        if rest:
            problems.setdefault(i, []).extend(rest)
    _duplicates(times, np.asarray(lines, dtype="int64"), state, problems)
    rejected = sorted([(lines[i], "; ".join(problems[i])) for i in problems] + list(extra))
    good = np.ones(len(lines), dtype=bool)
    good[list(problems)] = False
    kept = values[good].sort_index(kind="stable")
    return Chunk(kept, rejected, len(lines) + len(extra))


def _duplicates(times: pd.DatetimeIndex, lines: np.ndarray, state: _FileState, problems: dict) -> None:
    """Mark repeated times (within the chunk and against earlier chunks), naming the first line; remember the rest."""
    ok = ~np.asarray(times.isna())
    t = times.asi8[ok]
    ln = lines[ok]
    pos = np.flatnonzero(ok)
    order = np.argsort(t, kind="stable")
    t, ln, pos = t[order], ln[order], pos[order]
    repeat = np.zeros(len(t), dtype=bool)
    repeat[1:] = t[1:] == t[:-1]
    first_line = ln.copy()
    for k in np.flatnonzero(repeat):  # inside the chunk: the first copy's line (sorted stably, so first is first)
        first_line[k] = first_line[k - 1]
    if len(state.times):
        at = np.searchsorted(state.times, t)
        at_c = np.minimum(at, len(state.times) - 1)
        earlier = state.times[at_c] == t
        first_line[earlier] = state.lines[at_c[earlier]]
        repeat |= earlier
    for k in np.flatnonzero(repeat):
        problems.setdefault(int(pos[k]), []).append(
            f"duplicate time {pd.Timestamp(int(t[k]), tz='UTC').isoformat()} (first on line {int(first_line[k])})")
    fresh = ~repeat
    merged_t = np.concatenate([state.times, t[fresh]])
    merged_l = np.concatenate([state.lines, ln[fresh]])
    order = np.argsort(merged_t, kind="stable")
    state.times, state.lines = merged_t[order], merged_l[order]


# -- the entry points --------------------------------------------------------
def iter_candle_chunks(path_or_buffer: str | os.PathLike | bytes | IO, *, file_format: str | None = None,
                       timeframe: str | None = None, chunk_rows: int = CHUNK_ROWS) -> Iterator[Chunk]:
    """The file's candles chunk by chunk: each :class:`Chunk` has the valid rows and the bad lines.

    Problems that are not about a candle line (no such file, encoding, header, missing columns, an
    unreadable Parquet file) raise :class:`CandleFileError`.
    """
    if timeframe is not None:
        timeframe_seconds(timeframe)
    if not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise ValueError(f"chunk_rows must be a positive whole number, got {chunk_rows!r}")
    name = _source_name(path_or_buffer)
    fh = _open_binary(path_or_buffer)
    state = _FileState()
    try:
        if _peek_format(fh, name, file_format) == "parquet":
            for frame, lines in _parquet_chunks(fh, name, chunk_rows):
                yield _check_chunk(frame, lines, name, 0, timeframe, state)
            return
        for header, header_line, rows, lines, bad in _csv_chunks(fh, name, chunk_rows):
            _pick_columns(header, name, header_line)
            cols = list(zip(*rows)) if rows else [()] * len(header)
            frame = pd.DataFrame({h: np.array(c, dtype=object) for h, c in zip(header, cols)})
            del rows, cols
            yield _check_chunk(frame, lines, name, header_line, timeframe, state, bad)
    finally:
        if fh is not path_or_buffer and not isinstance(fh, _EncodedText):
            fh.close()  # what this function opened; the caller's own file object stays open


def parse_candle_file(path_or_buffer: str | os.PathLike | bytes | IO, *, file_format: str | None = None,
                      timeframe: str | None = None) -> pd.DataFrame:
    """Parse a CSV or Parquet candle file; see the module docstring.

    ``file_format`` is ``"csv"`` or ``"parquet"``; by default it is taken from
    the file suffix, else from the content (Parquet files start with ``PAR1``).
    """
    name = _source_name(path_or_buffer)
    frames, errors, rows = [], [], 0
    for chunk in iter_candle_chunks(path_or_buffer, file_format=file_format, timeframe=timeframe):
        errors.extend(chunk.rejected)
        rows += chunk.rows
        if not errors:
            frames.append(chunk.frame)
    if errors:
        raise CandleFileError(errors, name)
    if not rows:
        raise CandleFileError([(1, "the file has a header but no candles")], name)
    return pd.concat(frames).sort_index(kind="stable") if len(frames) > 1 else frames[0]


def parse_candle_file_partial(path_or_buffer: str | os.PathLike | bytes | IO, *, timeframe: str | None = None
                              ) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """CSV: ``(frame of the rows that pass, [(line, reason) of the rows that do not]``).

    A file whose every candle line is bad raises :class:`CandleFileError` listing those lines."""
    name = _source_name(path_or_buffer)
    if name.lower().endswith((".parquet", ".pq")) or (
            isinstance(path_or_buffer, (bytes, bytearray)) and bytes(path_or_buffer[:4]) == PARQUET_MAGIC):
        raise ValueError("keeping the valid rows of a file (partial import) works for CSV files only")
    frames, rejected, rows = [], [], 0
    for chunk in iter_candle_chunks(path_or_buffer, file_format="csv", timeframe=timeframe):
        frames.append(chunk.frame)
        rejected.extend(chunk.rejected)
        rows += chunk.rows
    kept = pd.concat(frames).sort_index(kind="stable") if len(frames) > 1 else frames[0]
    if not len(kept):
        raise CandleFileError(rejected or [(1, "the file has a header but no candles")], name)
    return kept, rejected


def _parquet_chunks(fh: IO[bytes], name: str, chunk_rows: int) -> Iterator[tuple[pd.DataFrame, list[int]]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - pyarrow is pinned in requirements.txt
        raise CandleFileError([(0, "reading Parquet needs the pyarrow package (pip install pyarrow)")],
                              name) from None
    try:
        pf = pq.ParquetFile(fh)
        batches = pf.iter_batches(batch_size=chunk_rows)
    except Exception as exc:  # pyarrow raises many types for corrupt files
        raise CandleFileError([(0, f"not a readable Parquet file ({type(exc).__name__}: {exc})")], name) from None
    first = 1
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except Exception as exc:  # noqa: BLE001 - a corrupt page further into the file
            raise CandleFileError([(0, f"not a readable Parquet file ({type(exc).__name__}: {exc})")],
                                  name) from None
        df = batch.to_pandas()
        if isinstance(df.index, pd.DatetimeIndex):
            df = df.reset_index()
        df.columns = [str(c).strip().lower() for c in df.columns]
        df = df.reset_index(drop=True)
        yield df, list(range(first, first + len(df)))
        first += len(df)
