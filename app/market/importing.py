"""Importing a candle file into a stored series, chunk by chunk, without silently replacing stored prices.

:func:`import_file` reads the file in chunks (``app.market.csv_import.iter_candle_chunks``), so memory
stays bounded; each chunk's bars are compared with the bars already stored at those times:

- new bars are written;
- bars that already exist are left as stored and counted as skipped (with how many differ), unless
  ``replace=True``: then the ones that differ are overwritten and counted as replaced.

All-or-nothing unless ``partial``: the first bad line stops the writing, every bad line is still
collected, and :class:`CandleFileError` is raised so the caller rolls the transaction back. With
``partial`` the bad lines are dropped and reported; a file with no good line at all raises, listing them.
Nothing here commits (the caller owns the transaction, like ``app.market.store``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from app.market import origins, store
from app.market.csv_import import CHUNK_ROWS, CandleFileError, iter_candle_chunks
from app.marketdata import OHLCV, timeframe_delta, validate_symbol

MAX_KEPT_REJECTED = 10_000  # bad lines kept for the report (all are counted)


@dataclass
class ImportReport:
    exchange: str
    symbol: str
    timeframe: str
    rows: int = 0          # valid candle lines read
    new: int = 0           # bars that were not stored before, now written
    replaced: int = 0      # stored bars whose values changed (replace=True only)
    unchanged: int = 0     # bars already stored with the same values (nothing to write)
    skipped: int = 0       # bars already stored with different values, kept as stored (replace=False)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    n_rejected: int = 0
    chunks: int = 0

    @property
    def origin(self) -> str:
        return origins.origin(self.exchange)


def check_target(exchange: str) -> str:
    """The exchange name a file may be imported under, or ``ValueError`` naming the choices."""
    ex = exchange.strip().lower() if isinstance(exchange, str) else ""
    if ex not in origins.IMPORT_TARGETS:
        raise ValueError(f"unknown exchange {exchange!r}; import under one of {', '.join(origins.IMPORT_TARGETS)} "
                         f"({origins.IMPORT_EXCHANGE!r} keeps a file as a series of its own)")
    return ex


def import_file(conn, path: str | os.PathLike, exchange: str, symbol: str, timeframe: str, *,
                partial: bool = False, replace: bool = False, chunk_rows: int = CHUNK_ROWS) -> ImportReport:
    """Import ``path`` into the series ``(exchange, symbol, timeframe)``; see the module docstring."""
    exchange = check_target(exchange)
    symbol = validate_symbol(symbol)
    timeframe_delta(timeframe)
    report = ImportReport(exchange, symbol, timeframe)
    series_id: int | None = None
    writing = True
    for chunk in iter_candle_chunks(path, timeframe=timeframe, chunk_rows=chunk_rows):
        report.chunks += 1
        if chunk.rejected:
            report.n_rejected += len(chunk.rejected)
            room = MAX_KEPT_REJECTED - len(report.rejected)
            report.rejected.extend(chunk.rejected[:max(room, 0)])
            if not partial:
                writing = False  # keep reading to report every bad line; nothing will be committed
        report.rows += len(chunk.frame)
        if not writing or not len(chunk.frame):
            continue
        if series_id is None:
            series_id = store.get_or_create_series(conn, exchange, symbol, timeframe)
        _write_chunk(conn, series_id, chunk.frame, replace, report)
    name = os.path.basename(str(path))
    if report.n_rejected and not partial:
        raise CandleFileError(report.rejected, name)
    if not report.rows:
        raise CandleFileError(report.rejected or [(1, "the file has a header but no candles")], name)
    return report


def _write_chunk(conn, series_id: int, frame, replace: bool, report: ImportReport) -> None:
    times = frame.index.as_unit("us").asi8
    stored = store.load_candles(conn, series_id, start=frame.index[0], end=frame.index[-1] + np.timedelta64(1, "us"))
    s_times = stored.index.as_unit("us").asi8
    at = np.searchsorted(s_times, times)
    at_c = np.minimum(at, max(len(s_times) - 1, 0))
    exists = (at < len(s_times)) & (s_times[at_c] == times) if len(s_times) else np.zeros(len(times), dtype=bool)
    differs = np.zeros(len(times), dtype=bool)
    if exists.any():
        mine = frame[OHLCV].to_numpy(dtype="float64")[exists]
        theirs = stored[OHLCV].to_numpy(dtype="float64")[at_c[exists]]
        differs[exists] = (mine != theirs).any(axis=1)
    report.new += int((~exists).sum())
    report.unchanged += int((exists & ~differs).sum())
    if replace:
        report.replaced += int(differs.sum())
        write = ~exists | differs
    else:
        report.skipped += int(differs.sum())
        write = ~exists
    if write.any():
        store.bulk_upsert_candles(conn, series_id, frame[write])
