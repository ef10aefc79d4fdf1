"""Check candles before anything is stored.

:func:`validate_candles` checks, for a canonical candle frame:

* the index is a tz-aware ``DatetimeIndex`` (other time zones are converted to
  UTC, same instants; naive times are refused: they are ambiguous);
* open times are aligned to the timeframe (epoch-based UTC boundaries);
* no NaN / inf / non-numeric values, prices > 0, volume >= 0;
* ``low <= min(open, close) <= max(open, close) <= high``.

Order and duplicates: out-of-order input is sorted; when an open time appears
more than once the LAST occurrence is kept (an exchange re-sending a bar sends
the newer version) and the earlier copies are counted in ``duplicates`` – they
are not an error.

The valid rows come back as :class:`app.marketdata.CheckedCandles`, so storage and the caches
downstream do not check them again.

``partial=False`` (default): any bad row raises :class:`CandleValidationError`
listing every reason, so the caller writes nothing. ``partial=True``: bad rows
are dropped and reported in ``rejected``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from app.marketdata import OHLCV, candles_from_arrays, check_candle_frame, timeframe_seconds

NS = 10**9
MAX_LISTED = 20


@dataclass(frozen=True)
class Rejection:
    time: pd.Timestamp | None   # the bar's open time, when it has one
    row: int                    # 0-based position in the input frame
    reason: str

    def __str__(self) -> str:
        where = self.time.isoformat() if self.time is not None else f"row {self.row}"
        return f"{where}: {self.reason}"


@dataclass
class ValidationResult:
    valid: pd.DataFrame
    rejected: list[Rejection] = field(default_factory=list)
    duplicates: int = 0


class CandleValidationError(ValueError):
    def __init__(self, rejections: list[Rejection], timeframe: str):
        self.rejections = rejections
        lines = [str(r) for r in rejections[:MAX_LISTED]]
        more = len(rejections) - len(lines)
        msg = f"{len(rejections)} invalid {timeframe} candle(s): " + "; ".join(lines)
        if more > 0:
            msg += f"; ... and {more} more"
        super().__init__(msg)


def row_problems(frame: pd.DataFrame, timeframe: str | None = None,
                 raw: pd.DataFrame | None = None) -> dict[int, list[str]]:
    """``{row position: [reasons]}`` for the invalid rows only (valid rows are absent).

    ``frame`` has a UTC DatetimeIndex (NaT allowed) and OHLCV columns of any
    dtype; this is shared with the CSV importer so both give the same reasons.
    ``raw`` (same shape, the original text) is only used to word the reasons.
    Checks are vectorised; Python only touches the bad rows.
    """
    reasons: dict[int, list[str]] = {}

    def add(mask: np.ndarray, text) -> None:
        for i in np.flatnonzero(mask):
            reasons.setdefault(int(i), []).append(text(i))

    vals = {}
    for c in OHLCV:
        col = frame[c]
        num = (col.to_numpy(dtype="float64", na_value=np.nan) if pd.api.types.is_float_dtype(col.dtype)
               else pd.to_numeric(col, errors="coerce").astype("float64").to_numpy())
        vals[c] = num
        text = raw[c] if raw is not None else col

        def bad_number(i, text=text, c=c):
            r = text.iloc[i]
            if isinstance(r, str):
                r = r.strip()
            if (not isinstance(r, str) and pd.isna(r)) or (isinstance(r, str) and not r.strip()):
                return f"{c} is missing"
            shown = repr(r) if isinstance(r, str) else str(r)
            return f"{c} is {shown}, not a finite number"
        add(~np.isfinite(num), bad_number)
    o, h, l, cl, v = (vals[c] for c in OHLCV)
    with np.errstate(invalid="ignore"):
        add((o <= 0) | (h <= 0) | (l <= 0) | (cl <= 0), lambda i: "prices must be > 0")
        add(v < 0, lambda i: f"volume {v[i]:g} is negative")
        add(l > np.minimum(o, cl), lambda i: f"low {l[i]:g} is above min(open, close) {min(o[i], cl[i]):g}")
        add(h < np.maximum(o, cl), lambda i: f"high {h[i]:g} is below max(open, close) {max(o[i], cl[i]):g}")
    idx = frame.index
    nat = np.asarray(idx.isna())
    add(nat, lambda i: "open time is missing")
    if timeframe is not None:
        step = timeframe_seconds(timeframe) * NS
        ns = idx.as_unit("ns").asi8
        add(~nat & (ns % step != 0), lambda i: f"open time is not aligned to a {timeframe} boundary")
    return reasons


def _beyond_ns(idx: pd.DatetimeIndex) -> np.ndarray:
    """Rows whose open time a nanosecond index cannot hold (before 1677 or after 2262): a garbled answer."""
    if idx.unit == "ns":
        return np.zeros(len(idx), dtype=bool)
    hi = np.iinfo(np.int64).max // {"s": 10**9, "ms": 10**6, "us": 10**3}[idx.unit]  # int64 ns either side
    vals = idx.asi8
    return ~np.asarray(idx.isna()) & ((vals < -hi) | (vals > hi))


def validate_candles(df: pd.DataFrame, timeframe: str, partial: bool = False) -> ValidationResult:
    """Validate and normalise a candle frame; see the module docstring."""
    timeframe_seconds(timeframe)  # ValueError for unknown names
    check_candle_frame(df, "candle frame", strict_utc=False)
    frame = df[OHLCV].copy()
    idx = df.index.tz_convert("UTC")
    beyond = _beyond_ns(idx)
    if beyond.any():  # refused below as a bad row, like any other, instead of an OutOfBoundsDatetime
        idx = idx.where(~beyond, pd.NaT)
    frame.index = idx.as_unit("ns").rename("time")

    reasons = row_problems(frame, timeframe)
    for i in np.flatnonzero(beyond):
        reasons[int(i)] = ["open time is outside the years 1677-2262"] + [
            r for r in reasons.get(int(i), []) if r != "open time is missing"]
    rejected = [Rejection(None if pd.isna(frame.index[i]) else frame.index[i], i, "; ".join(reasons[i]))
                for i in sorted(reasons)]
    if rejected and not partial:
        raise CandleValidationError(rejected, timeframe)

    ok = np.ones(len(frame), dtype=bool)
    ok[list(reasons)] = False
    good = frame[ok].astype("float64")
    dup = good.index.duplicated(keep="last")
    duplicates = int(dup.sum())
    good = good[~dup].sort_index(kind="stable")
    # Everything a checked frame promises was established above: carry it as one from here on.
    valid = candles_from_arrays(good.index.as_unit("us").asi8, good.to_numpy(dtype="float64"), timeframe)
    return ValidationResult(valid=valid, rejected=rejected, duplicates=duplicates)
