"""Candle storage: the series registry, idempotent upserts, the bulk path and fast reads.

Every function takes a SQLAlchemy ``Connection`` (tests: ``engine.connect()``)
or ``Session`` (the app: ``db.session``; its connection is used) and works on
PostgreSQL and SQLite.

Transactions: nothing here commits; the caller owns the transaction
(``conn.commit()``, ``engine.begin()``, ``db.session.commit()``), as usual in
SQLAlchemy 2. Each write runs in a SAVEPOINT, so a write that fails leaves
nothing behind and the caller's transaction usable. Bad frames are refused
with ``ValueError`` before anything is sent to the database.

Time ranges are half-open, ``start <= time < end``, like the sources'
``[since, until)``. Frames read back are canonical: tz-aware UTC
``DatetimeIndex`` (microsecond unit, PostgreSQL's precision) named ``time``,
float64 ``open high low close volume``, ascending.

Writes return the rows inserted or changed: re-sending a bar with identical
values rewrites nothing (and counts 0), a changed bar is updated. A write that
changed rows advances its series' ``revision`` in the same transaction (every
candle write goes through here; the API's candle window is versioned by it).
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import datetime
from typing import Iterator

import numpy as np
import pandas as pd
from sqlalchemy import Connection, String, func, or_, select, type_coerce
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.market import bulk
from app.marketdata import OHLCV, candles_from_arrays, check_candle_frame, is_checked, timeframe_delta, validate_symbol
from app.models.market import Candle, Series

SERIES = Series.__table__
CANDLES = Candle.__table__
ROW_BATCH = 2000  # rows per executemany batch on the row path
BULK_THRESHOLD = 5000  # upsert_candles hands bigger frames to the COPY path on PostgreSQL
_EXCHANGE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,31}")
_SQLITE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's SQLite DATETIME storage format
_READ_FIELDS = [("time", ">i8")] + [(c, ">f8") for c in OHLCV]

Conn = Connection | Session


# ---------------------------------------------------------------- plumbing
def as_connection(conn: Conn) -> Connection:
    """The Connection of a Session (or Flask-SQLAlchemy's scoped ``db.session``), or ``conn`` itself."""
    if isinstance(conn, Connection):
        return conn
    if isinstance(conn, Session) or callable(getattr(conn, "connection", None)):
        return conn.connection()
    raise TypeError(f"expected a SQLAlchemy Connection or Session, got {type(conn).__name__}")


@contextmanager
def _atomic(conn: Connection) -> Iterator[None]:
    """A SAVEPOINT inside the caller's transaction (begun if needed): all of a write or none."""
    with conn.begin_nested():
        yield


def _dialect_insert(conn: Connection):
    name = conn.dialect.name
    if name == "postgresql":
        return postgresql.insert
    if name == "sqlite":
        return sqlite.insert
    raise ValueError(f"candle storage supports PostgreSQL and SQLite, not {name!r}")


def _utc(value, what: str) -> pd.Timestamp:
    """A tz-aware instant as a UTC Timestamp; naive values are refused (ambiguous)."""
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be a timezone-aware datetime, got {value!r}") from exc
    if ts is pd.NaT:
        raise ValueError(f"{what} must be a timezone-aware datetime, got {value!r}")
    if ts.tzinfo is None:
        raise ValueError(f"{what} must be timezone-aware (UTC), got naive {ts.isoformat()}")
    return ts.tz_convert("UTC")


# ---------------------------------------------------------------- series
def _series_key(exchange: str, symbol: str, timeframe: str) -> tuple[str, str, str]:
    ex = exchange.strip().lower() if isinstance(exchange, str) else ""
    if not _EXCHANGE.fullmatch(ex):
        raise ValueError(f"invalid exchange {exchange!r}; expected a short lower-case name like 'binance'")
    timeframe_delta(timeframe)
    return ex, validate_symbol(symbol), timeframe


def find_series(conn: Conn, exchange: str, symbol: str, timeframe: str) -> int | None:
    """The id of the series ``(exchange, symbol, timeframe)``, or None if it does not exist."""
    ex, sym, tf = _series_key(exchange, symbol, timeframe)
    c = SERIES.c
    stmt = select(c.id).where(c.exchange == ex, c.symbol == sym, c.timeframe == tf)
    return as_connection(conn).execute(stmt).scalar_one_or_none()


def get_or_create_series(conn: Conn, exchange: str, symbol: str, timeframe: str) -> int:
    """The id of the series, creating it if needed; safe when two workers race to create it."""
    ex, sym, tf = _series_key(exchange, symbol, timeframe)
    c = as_connection(conn)
    found = find_series(c, ex, sym, tf)
    if found is not None:
        return found
    stmt = _dialect_insert(c)(SERIES).values(exchange=ex, symbol=sym, timeframe=tf)
    stmt = stmt.on_conflict_do_nothing(index_elements=["exchange", "symbol", "timeframe"])
    with _atomic(c):
        c.execute(stmt)
    found = find_series(c, ex, sym, tf)
    if found is None:  # pragma: no cover - only if another transaction deleted it in between
        raise RuntimeError(f"series {ex} {sym} {tf} vanished right after it was created")
    return found


def series_keys(conn: Conn) -> list[tuple[str, str, str]]:
    """``(exchange, symbol, timeframe)`` of every series: the catalogue, without touching candles."""
    c = SERIES.c
    stmt = select(c.exchange, c.symbol, c.timeframe).order_by(c.exchange, c.symbol, c.timeframe)
    return [tuple(r) for r in as_connection(conn).execute(stmt).all()]


def list_series(conn: Conn) -> pd.DataFrame:
    """All series: ``id exchange symbol timeframe first last`` (first/last bar time or NaT)."""
    s, k = SERIES.c, CANDLES.c
    first = select(func.min(k.time)).where(k.series_id == s.id).scalar_subquery()
    last = select(func.max(k.time)).where(k.series_id == s.id).scalar_subquery()
    stmt = select(s.id, s.exchange, s.symbol, s.timeframe, first.label("first"), last.label("last"))
    rows = as_connection(conn).execute(stmt.order_by(s.exchange, s.symbol, s.timeframe)).all()
    frame = pd.DataFrame(rows, columns=["id", "exchange", "symbol", "timeframe", "first", "last"])
    frame["id"] = frame["id"].astype("int64")
    for col in ("first", "last"):
        frame[col] = _to_utc_index(frame[col].tolist())
    return frame


def _to_utc_index(values: list) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(
        [pd.NaT if v is None else _utc(v, "stored time") for v in values], dtype="datetime64[us, UTC]"
    )


# ---------------------------------------------------------------- validation
def _frame_arrays(df: pd.DataFrame, what: str = "candle frame", unique: bool = True
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(times as int64 epoch microseconds, float64 values in OHLCV order) of a canonical frame.

    Rows come back sorted by time; ``unique=False`` skips the duplicate check
    (the many-series path checks (series_id, time) pairs itself). A frame that
    was already checked (:func:`app.marketdata.checked`) is taken as it is.
    """
    if is_checked(df):
        return df.index.as_unit("us").asi8, df[OHLCV].to_numpy(dtype="float64")
    check_candle_frame(df, what, strict_utc=False)
    idx = df.index
    if idx.hasnans:
        raise ValueError(f"{what} has missing (NaT) bar times")
    ns = idx.tz_convert("UTC").as_unit("ns").asi8
    if (ns % 1000).any():
        raise ValueError(f"{what} has sub-microsecond bar times; the database stores microseconds")
    if unique and not idx.is_unique:
        dupes = idx[idx.duplicated()].unique()[:3]
        raise ValueError(f"{what} has duplicate bar times, e.g. {', '.join(t.isoformat() for t in dupes)}")
    try:
        values = df[OHLCV].to_numpy(dtype="float64", copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} has non-numeric OHLCV values: {exc}") from exc
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(
            f"{what} has {int(bad.sum())} missing or infinite value(s), "
            f"first {OHLCV[col]} at {idx[row].isoformat()}"
        )
    times = ns // 1000
    if unique and not idx.is_monotonic_increasing:
        order = np.argsort(times, kind="stable")
        times, values = times[order], values[order]
    return times, values


def _multi_arrays(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Series ids, times and values of a many-series frame (``series_id`` column or index level)."""
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"expected a candle frame, got {type(frame).__name__}")
    if isinstance(frame.index, pd.MultiIndex):
        if list(frame.index.names) != ["series_id", "time"]:
            raise ValueError(f"a multi-series frame's index levels must be (series_id, time), got {frame.index.names}")
        frame = frame.reset_index(level="series_id")
    if "series_id" not in frame.columns:
        raise ValueError("a multi-series candle frame needs a series_id column (or index level)")
    sid = frame["series_id"]
    if not pd.api.types.is_integer_dtype(sid.dtype) or (sid.to_numpy() <= 0).any():
        raise ValueError("series_id must hold positive integers")
    sids = sid.to_numpy(dtype="int64")
    times, values = _frame_arrays(frame.drop(columns="series_id"), "candle frame", unique=False)
    order = np.lexsort((times, sids))  # primary-key order: better index locality in the merge
    sids, times, values = sids[order], times[order], values[order]
    dup = (sids[1:] == sids[:-1]) & (times[1:] == times[:-1])
    if dup.any():
        i = int(np.argmax(dup))
        when = pd.Timestamp(int(times[i]), unit="us", tz="UTC").isoformat()
        raise ValueError(f"candle frame has duplicate (series_id, time) rows, e.g. ({sids[i]}, {when})")
    return sids, times, values


def _check_series_exist(conn: Connection, series_ids: np.ndarray) -> None:
    wanted = {int(s) for s in np.unique(series_ids)}
    if not wanted:
        return
    found = set(conn.execute(select(SERIES.c.id).where(SERIES.c.id.in_(sorted(wanted)))).scalars())
    unknown = sorted(wanted - found)
    if unknown:
        raise ValueError(f"unknown series id(s) {unknown[:5]}; create them with get_or_create_series")


def _series_id(series_id) -> int:
    if isinstance(series_id, (bool, np.bool_)) or not isinstance(series_id, (int, np.integer)) or series_id <= 0:
        raise ValueError(f"series_id must be a positive integer, got {series_id!r}")
    return int(series_id)


# ---------------------------------------------------------------- writes
def _row_upsert(conn: Connection, sids: np.ndarray, times_us: np.ndarray, values: np.ndarray) -> int:
    insert = _dialect_insert(conn)
    stmt = insert(CANDLES)
    k = CANDLES.c
    stmt = stmt.on_conflict_do_update(
        index_elements=[k.series_id, k.time],
        set_={c: stmt.excluded[c] for c in OHLCV},
        where=or_(*(k[c] != stmt.excluded[c] for c in OHLCV)),
    ).returning(k.series_id)  # RETURNING lets SQLAlchemy batch ON CONFLICT rows into multi-row VALUES
    times = pd.DatetimeIndex(times_us.astype("datetime64[us]"), tz="UTC").to_pydatetime()
    written = 0
    for lo in range(0, len(times), ROW_BATCH):
        hi = lo + ROW_BATCH
        cols = [sids[lo:hi].tolist(), times[lo:hi].tolist()] + [values[lo:hi, i].tolist() for i in range(5)]
        params = [dict(zip(["series_id", "time", *OHLCV], row)) for row in zip(*cols)]
        written += len(conn.execute(stmt, params).all())  # one row per row inserted or changed
    return written


def _bump_revisions(c: Connection, sids: np.ndarray) -> None:
    """Advance ``series.revision`` of the written series, in the write's transaction (readers such as the
    API's candle window compare it instead of reading bars). Several series are locked in id order first,
    so two writers of the same series cannot deadlock on their rows."""
    ids = [int(x) for x in np.unique(sids)]  # sorted
    s = SERIES.c
    if len(ids) > 1 and c.dialect.name == "postgresql":
        c.execute(select(s.id).where(s.id.in_(ids)).order_by(s.id).with_for_update()).all()
    c.execute(SERIES.update().where(s.id.in_(ids)).values(revision=s.revision + 1))


def upsert_candles(conn: Conn, series_id: int, df: pd.DataFrame) -> int:
    """Insert or update one series' candles (``INSERT ... ON CONFLICT DO UPDATE``, batched).

    The incremental path: a few to a few thousand bars (more than
    ``BULK_THRESHOLD`` go through the COPY merge on PostgreSQL, same result).
    Returns rows inserted or changed.
    """
    sid = _series_id(series_id)
    times, values = _frame_arrays(df)
    if not len(times):
        return 0
    c = as_connection(conn)
    _check_series_exist(c, np.array([sid]))
    sids = np.full(len(times), sid, dtype="int64")
    return _write(c, sids, times, values, copy=len(times) > BULK_THRESHOLD)


def bulk_upsert_candles(conn: Conn, series_id_or_frame, df: pd.DataFrame | None = None) -> int:
    """The backfill path: ``bulk_upsert_candles(conn, series_id, df)`` or ``(conn, frame)``.

    ``frame`` holds many series at once: a ``series_id`` column (or a
    ``(series_id, time)`` MultiIndex) next to the OHLCV columns, so a large
    backfill is a single COPY. On PostgreSQL (psycopg2) rows are binary-COPied
    into a temp table and merged with one ``INSERT ... SELECT ... ON CONFLICT
    DO UPDATE``; elsewhere this is :func:`upsert_candles`. Returns rows
    inserted or changed.
    """
    if isinstance(series_id_or_frame, pd.DataFrame):
        if df is not None:
            raise ValueError("pass either (series_id, df) or one multi-series frame, not both")
        sids, times, values = _multi_arrays(series_id_or_frame)
    else:
        sid = _series_id(series_id_or_frame)
        if df is None:
            raise ValueError("bulk_upsert_candles(conn, series_id, df) needs the candle frame")
        times, values = _frame_arrays(df)
        sids = np.full(len(times), sid, dtype="int64")
    if not len(times):
        return 0
    c = as_connection(conn)
    _check_series_exist(c, sids)
    return _write(c, sids, times, values, copy=True)


def _write(c: Connection, sids: np.ndarray, times: np.ndarray, values: np.ndarray, copy: bool) -> int:
    """One atomic candle write (the COPY merge when ``copy`` and PostgreSQL, else the row path) and, when it
    changed rows, the revision of its series; the rows inserted or changed."""
    with _atomic(c):
        if copy and bulk.supports_copy(c):
            written = bulk.merge_copy(c, CANDLES.name, sids, times, values)
        else:
            written = _row_upsert(c, sids, times, values)
        if written:
            _bump_revisions(c, sids)
        return written


# ---------------------------------------------------------------- reads
def _range_sql(start, end) -> tuple[str, dict]:
    where, params = "", {}
    if start is not None:
        where += " AND time >= %(start)s"
        params["start"] = _utc(start, "start").to_pydatetime()
    if end is not None:
        where += " AND time < %(end)s"
        params["end"] = _utc(end, "end").to_pydatetime()
    return where, params


def _read(conn: Connection, series_id: int, start, end, limit: int | None, columns: list[str]
          ) -> tuple[np.ndarray, np.ndarray]:
    """(epoch microseconds, float64 values of ``columns``) ascending by time."""
    if limit is not None and (not isinstance(limit, (int, np.integer)) or isinstance(limit, bool) or limit < 0):
        raise ValueError(f"limit must be a non-negative integer, got {limit!r}")
    if bulk.supports_copy(conn):
        where, params = _range_sql(start, end)
        params["sid"] = series_id
        cols = ", ".join(["time", *columns])
        sql = f"SELECT {cols} FROM {CANDLES.name} WHERE series_id = %(sid)s{where}"
        if limit is not None:
            sql = f"SELECT * FROM ({sql} ORDER BY time DESC LIMIT {int(limit)}) AS latest"
        rows = bulk.copy_out(conn, sql + " ORDER BY time", params, _READ_FIELDS[: 1 + len(columns)])
        times = rows["time"].astype("int64") + bulk.PG_EPOCH_US
        values = np.column_stack([rows[c].astype("float64") for c in columns]) if columns else None
        return times, values
    k = CANDLES.c
    stmt = select(type_coerce(k.time, String), *(k[c] for c in columns)).where(k.series_id == series_id)
    if start is not None:
        stmt = stmt.where(k.time >= _utc(start, "start").to_pydatetime())
    if end is not None:
        stmt = stmt.where(k.time < _utc(end, "end").to_pydatetime())
    if limit is not None:
        latest = stmt.order_by(k.time.desc()).limit(int(limit)).subquery()
        stmt = select(*latest.c).order_by(latest.c[0])
    else:
        stmt = stmt.order_by(k.time)
    rows = conn.execute(stmt).all()
    if conn.dialect.name == "sqlite":
        stamps = [r[0] for r in rows]
        idx = pd.to_datetime(stamps, format=_SQLITE_TIME_FORMAT, utc=True) if stamps else pd.DatetimeIndex([], tz="UTC")
    else:  # another driver: the column's own result processing gives datetimes
        idx = _to_utc_index([r[0] for r in rows])
    times = idx.as_unit("us").asi8
    values = np.array([r[1:] for r in rows], dtype="float64").reshape(len(rows), len(columns))
    return times, values


def _index(times_us: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(times_us.astype("datetime64[us]"), tz="UTC", name="time")


def load_candles(conn: Conn, series_id: int, start=None, end=None, limit: int | None = None) -> pd.DataFrame:
    """A canonical candle frame for ``start <= time < end``; ``limit`` keeps the latest N bars.

    It comes back as :class:`app.marketdata.CheckedCandles`: what was stored passed the checks
    on its way in, so nobody downstream checks it again.
    """
    times, values = _read(as_connection(conn), _series_id(series_id), start, end, limit, list(OHLCV))
    return candles_from_arrays(times, values)


def candle_times(conn: Conn, series_id: int, start=None, end=None) -> pd.DatetimeIndex:
    """Stored bar open times in ``[start, end)``, ascending (for gap detection)."""
    times, _ = _read(as_connection(conn), _series_id(series_id), start, end, None, [])
    return _index(times)


def last_candle_time(conn: Conn, series_id: int) -> datetime | None:
    """Open time of the newest stored bar (tz-aware UTC), or None for an empty series."""
    k = CANDLES.c
    stmt = select(func.max(k.time)).where(k.series_id == _series_id(series_id))
    value = as_connection(conn).execute(stmt).scalar_one_or_none()
    return None if value is None else _utc(value, "stored time").to_pydatetime()


def count_candles(conn: Conn, series_id: int, start=None, end=None) -> int:
    """Number of stored bars of the series in ``[start, end)`` (all when both are None), by ``COUNT``."""
    k = CANDLES.c
    stmt = select(func.count()).select_from(CANDLES).where(k.series_id == _series_id(series_id))
    if start is not None:
        stmt = stmt.where(k.time >= _utc(start, "start").to_pydatetime())
    if end is not None:
        stmt = stmt.where(k.time < _utc(end, "end").to_pydatetime())
    return int(as_connection(conn).execute(stmt).scalar_one())


def series_span(conn: Conn, series_id: int | None) -> tuple[datetime, datetime] | None:
    """(first, last) bar open time of the series (tz-aware UTC), or None when it has no bars."""
    if series_id is None:
        return None
    k = CANDLES.c
    stmt = select(func.min(k.time), func.max(k.time)).where(k.series_id == _series_id(series_id))
    first, last = as_connection(conn).execute(stmt).one()
    if first is None:
        return None
    return _utc(first, "stored time").to_pydatetime(), _utc(last, "stored time").to_pydatetime()


def delete_series(conn: Conn, series_id: int) -> int:
    """Delete a series and all its candles (candles have no FOREIGN KEY, see app/models/market.py)."""
    c = as_connection(conn)
    sid = _series_id(series_id)
    with _atomic(c):
        deleted = c.execute(CANDLES.delete().where(CANDLES.c.series_id == sid)).rowcount
        c.execute(SERIES.delete().where(SERIES.c.id == sid))
    return int(deleted)
