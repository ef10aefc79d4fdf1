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
import os
from pathlib import Path
from typing import IO, Any

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


class CandleFileError(ValueError):
    """The file cannot be imported; ``errors`` lists every ``(line, reason)``."""

    def __init__(self, errors: list[tuple[int, str]], source: str = "file"):
        self.errors = errors
        shown = "; ".join(f"line {ln}: {why}" for ln, why in errors[:MAX_LISTED])
        more = len(errors) - min(len(errors), MAX_LISTED)
        msg = f"{source}: {len(errors)} problem(s): {shown}" + (f"; ... and {more} more" if more else "")
        super().__init__(msg)


# -- reading -----------------------------------------------------------------
def _read_bytes(src: Any) -> tuple[bytes, str]:
    if isinstance(src, (str, os.PathLike)):
        p = Path(src)
        if not p.is_file():
            raise CandleFileError([(0, f"no such file: {p}")], str(p))
        return p.read_bytes(), p.name
    if isinstance(src, (bytes, bytearray, memoryview)):
        return bytes(src), "upload"
    if hasattr(src, "read"):
        data = src.read()
        return (data.encode("utf-8") if isinstance(data, str) else bytes(data)), getattr(src, "name", "upload")
    raise ValueError(f"expected a path, bytes or a file object, got {type(src).__name__}")


def _csv_rows(data: bytes, name: str) -> tuple[list[str], list[list[str]], list[int]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CandleFileError([(text_line(data, exc.start), "not UTF-8 text")], name) from None
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample.splitlines()[0] if sample else ",", delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    errors: list[tuple[int, str]] = []
    for fields in reader:
        line = reader.line_num
        if not fields or all(not f.strip() for f in fields):
            continue  # blank line
        if header is None:
            header = [f.strip().lower() for f in fields]
            continue
        if len(fields) != len(header):
            errors.append((line, f"expected {len(header)} fields, found {len(fields)}"))
            continue
        rows.append(fields)
        lines.append(line)
    if header is None:
        raise CandleFileError([(1, "the file is empty (no header line)")], name)
    if errors:
        raise CandleFileError(errors, name)
    return header, rows, lines


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
def _parse_times(raw: pd.Series) -> tuple[pd.DatetimeIndex, list[str | None]]:
    """UTC times (NaT where bad) and a per-row reason (None where fine)."""
    n = len(raw)
    reasons: list[str | None] = [None] * n
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        s = raw.dt.tz_localize("UTC") if raw.dt.tz is None else raw.dt.tz_convert("UTC")
        for i in np.flatnonzero(s.isna().to_numpy()):
            reasons[i] = "time is missing"
        return pd.DatetimeIndex(s.dt.as_unit("ns"), name="time"), reasons

    text = raw.astype("string").str.strip()
    nums = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    numeric = np.isfinite(nums)
    out = np.full(n, np.iinfo("int64").min, dtype="int64")  # NaT

    if numeric.any():
        mags = np.abs(nums[numeric])
        units = np.full(mags.shape, "", dtype=object)
        for bound, unit in reversed(UNIT_BOUNDS):
            units[mags < bound] = unit
        vals, counts = np.unique(units[units != ""], return_counts=True)
        file_unit = vals[np.argmax(counts)] if len(vals) else None
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
            else:
                out[i] = int(round(nums[i] * UNIT_NS[u]))

    textual = ~numeric
    if textual.any():
        parsed = pd.to_datetime(text[textual], format="ISO8601", utc=True, errors="coerce")
        pos = np.flatnonzero(textual)
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
    return idx, reasons


# -- the entry point ---------------------------------------------------------
def parse_candle_file(path_or_buffer: str | os.PathLike | bytes | IO, *, file_format: str | None = None,
                      timeframe: str | None = None) -> pd.DataFrame:
    """Parse a CSV or Parquet candle file; see the module docstring.

    ``file_format`` is ``"csv"`` or ``"parquet"``; by default it is taken from
    the file suffix, else from the content (Parquet files start with ``PAR1``).
    """
    if timeframe is not None:
        timeframe_seconds(timeframe)
    data, name = _read_bytes(path_or_buffer)
    fmt = (file_format or "").lower() or (
        "parquet" if name.lower().endswith((".parquet", ".pq")) or data[:4] == PARQUET_MAGIC else "csv")
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"file_format must be 'csv' or 'parquet', got {file_format!r}")

    if fmt == "parquet":
        frame, lines = _parquet_frame(data, name)
        header_line = 0
    else:
        header, rows, lines = _csv_rows(data, name)
        cols = list(zip(*rows)) if rows else [()] * len(header)
        frame = pd.DataFrame({h: np.array(c, dtype=object) for h, c in zip(header, cols)})
        header_line = 1
    time_col, ohlcv_cols = _pick_columns(list(frame.columns), name, header_line)

    times, time_reasons = _parse_times(frame[time_col])
    raw = pd.DataFrame({c: frame[src].to_numpy() for c, src in ohlcv_cols.items()}, index=times)
    values = raw.apply(lambda s: pd.to_numeric(s, errors="coerce")).astype("float64")
    value_reasons = row_problems(values, timeframe, raw=raw)

    problems: dict[int, list[str]] = {}
    for i, why in enumerate(time_reasons):
        if why:
            problems[i] = [why]
    for i, rs in value_reasons.items():
        rest = [r for r in rs if r != "open time is missing"]  # already said by time_reasons
        if rest:
            problems.setdefault(i, []).extend(rest)
    ok_time = ~np.asarray(times.isna())
    dup = ok_time & np.asarray(times.duplicated(keep="first"))
    if dup.any():
        first_line = dict(zip(times[ok_time & ~dup].asi8.tolist(), np.asarray(lines)[ok_time & ~dup].tolist()))
        for i in np.flatnonzero(dup):
            problems.setdefault(int(i), []).append(
                f"duplicate time {times[i].isoformat()} (first on line {first_line[int(times.asi8[i])]})")
    errors = [(lines[i], "; ".join(problems[i])) for i in sorted(problems)]
    if errors:
        raise CandleFileError(errors, name)
    if not lines:
        raise CandleFileError([(max(header_line, 1), "the file has a header but no candles")], name)
    return values.sort_index(kind="stable")


def parse_candle_file_partial(path_or_buffer: str | os.PathLike | bytes | IO, *, timeframe: str | None = None
                              ) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """CSV: ``(frame of the rows that pass, [(line, reason) of the rows that do not]``)."""
    data, name = _read_bytes(path_or_buffer)
    if data[:4] == PARQUET_MAGIC or name.lower().endswith((".parquet", ".pq")):
        raise ValueError("keeping the valid rows of a file (partial import) works for CSV files only")
    try:
        return parse_candle_file(data, file_format="csv", timeframe=timeframe), []
    except CandleFileError as exc:
        if not all(line > 1 for line, _ in exc.errors):       # the header itself is wrong: nothing to keep
            raise CandleFileError(exc.errors, name) from None
        rejected = exc.errors
    bad = {line for line, _ in rejected}
    kept = b"".join(raw for number, raw in enumerate(data.splitlines(keepends=True), start=1) if number not in bad)
    try:
        return parse_candle_file(kept, file_format="csv", timeframe=timeframe), rejected
    except CandleFileError as exc:
        raise CandleFileError(exc.errors, name) from None


def _parquet_frame(data: bytes, name: str) -> tuple[pd.DataFrame, list[int]]:
    try:
        import pyarrow  # noqa: F401
    except ImportError:  # pragma: no cover - pyarrow is pinned in requirements.txt
        raise CandleFileError([(0, "reading Parquet needs the pyarrow package (pip install pyarrow)")],
                              name) from None
    try:
        df = pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises many types for corrupt files
        raise CandleFileError([(0, f"not a readable Parquet file ({type(exc).__name__}: {exc})")], name) from None
    if isinstance(df.index, pd.DatetimeIndex):
        df = df.reset_index()
    df.columns = [str(c).strip().lower() for c in df.columns]
    df = df.reset_index(drop=True)
    return df, list(range(1, len(df) + 1))
