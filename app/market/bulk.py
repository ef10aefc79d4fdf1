"""PostgreSQL fast paths for candles: binary ``COPY`` in (bulk merge) and out (reads).

Serialisation is the bottleneck of a big backfill, so nothing here formats text:
rows are packed into a NumPy structured array laid out exactly as PostgreSQL's
binary COPY format (big-endian ``int4`` series id, ``timestamptz`` as ``int8``
microseconds since 2000-01-01, ``float8`` prices), which is both the fastest
encoding we measured and exact (no float or timestamp round trip through text).
Reads use the same layout backwards: ``COPY (SELECT ...) TO STDOUT (FORMAT
binary)`` straight into :func:`numpy.frombuffer`.

The functions take the arrays already validated by :mod:`app.market.store`
(which owns the public API and the transaction handling) and a SQLAlchemy
``Connection`` whose DBAPI connection is psycopg2.
"""
from __future__ import annotations

import io
import struct

import numpy as np
from sqlalchemy import Connection

from app.hot import changes

# Microseconds between the Unix epoch and PostgreSQL's epoch (2000-01-01 UTC).
PG_EPOCH_US = 946_684_800 * 1_000_000
_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_HEADER = _SIGNATURE + struct.pack(">ii", 0, 0)
_TRAILER = struct.pack(">h", -1)
_PRICE_COLUMNS = ("open", "high", "low", "close", "volume")
STAGE = "_cw_candle_stage"


def supports_copy(conn: Connection) -> bool:
    """True when the connection is PostgreSQL through psycopg2 (``copy_expert``)."""
    return conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg2"


def _row_dtype(fields: list[tuple[str, str]]) -> np.dtype:
    """Binary COPY row layout: int16 field count, then (int32 length, value) per field."""
    layout: list[tuple[str, str]] = [("nfields", ">i2")]
    for name, code in fields:
        layout += [(f"len_{name}", ">i4"), (name, code)]
    return np.dtype(layout)


_WRITE_FIELDS = [("series_id", ">i4"), ("time", ">i8")] + [(c, ">f8") for c in _PRICE_COLUMNS]
_WRITE_DTYPE = _row_dtype(_WRITE_FIELDS)


def encode_copy(series_ids: np.ndarray, times_us: np.ndarray, values: np.ndarray) -> bytes:
    """The binary COPY payload for ``(series_id, time, open, high, low, close, volume)`` rows."""
    n = len(times_us)
    rows = np.empty(n, dtype=_WRITE_DTYPE)
    rows["nfields"] = len(_WRITE_FIELDS)
    rows["len_series_id"] = 4
    rows["series_id"] = series_ids
    rows["len_time"] = 8
    rows["time"] = times_us - PG_EPOCH_US
    for i, name in enumerate(_PRICE_COLUMNS):
        rows[f"len_{name}"] = 8
        rows[name] = values[:, i]
    return b"".join((_HEADER, rows.tobytes(), _TRAILER))


def decode_copy(payload: bytes, fields: list[tuple[str, str]]) -> np.ndarray:
    """Rows of a binary ``COPY ... TO STDOUT`` whose fields are all NOT NULL and fixed width."""
    if not payload.startswith(_SIGNATURE):
        raise ValueError("not a PostgreSQL binary COPY payload")
    ext_len = struct.unpack_from(">i", payload, len(_SIGNATURE) + 4)[0]
    start = len(_SIGNATURE) + 8 + ext_len
    dtype = _row_dtype(fields)
    body = memoryview(payload)[start : len(payload) - len(_TRAILER)]
    if len(body) % dtype.itemsize or payload[-2:] != _TRAILER:
        raise ValueError("unexpected binary COPY layout (NULL or variable-width field?)")
    rows = np.frombuffer(body, dtype=dtype)
    if len(rows) and (rows["nfields"] != len(fields)).any():
        raise ValueError("unexpected field count in binary COPY payload")
    return rows


def merge_copy(conn: Connection, table: str, series_ids: np.ndarray, times_us: np.ndarray,
               values: np.ndarray) -> int:
    """COPY rows into a temp staging table, then one ``INSERT ... SELECT ... ON CONFLICT`` merge.

    Rows whose stored values are already identical are not rewritten (no dead
    tuples on re-ingestion). Returns the number of rows inserted or changed.
    Rows should come sorted by (series_id, time): primary-key order keeps the
    index inserts local. The caller runs this inside a transaction or savepoint.
    """
    payload = encode_copy(series_ids, times_us, values)
    changes.mark(conn, table)  # a COPY is not a statement SQLAlchemy's events see
    if _copy_direct_if_new(conn, table, series_ids, times_us, payload):
        return len(times_us)
    cols = ", ".join(_PRICE_COLUMNS)
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {STAGE}")
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE {STAGE} (series_id int4, time timestamptz, open float8, high float8,"
        " low float8, close float8, volume float8) ON COMMIT DROP"
    )
    raw = conn.connection.dbapi_connection
    with raw.cursor() as cur:
        cur.copy_expert(f"COPY {STAGE} FROM STDIN WITH (FORMAT binary)", io.BytesIO(payload),
                        size=1 << 22)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _PRICE_COLUMNS)
    changed = ", ".join(f"{table}.{c}" for c in _PRICE_COLUMNS)
    incoming = ", ".join(f"EXCLUDED.{c}" for c in _PRICE_COLUMNS)
    result = conn.exec_driver_sql(
        f"INSERT INTO {table} (series_id, time, {cols}) SELECT series_id, time, {cols} FROM {STAGE}"
        f" ON CONFLICT (series_id, time) DO UPDATE SET {updates}"
        f" WHERE ({changed}) IS DISTINCT FROM ({incoming})"
    )
    conn.exec_driver_sql(f"DROP TABLE {STAGE}")
    return int(result.rowcount)


def _copy_direct_if_new(conn: Connection, table: str, series_ids: np.ndarray, times_us: np.ndarray,
                        payload: bytes) -> bool:
    """Fast path for a backfill into an empty time range: COPY straight into the table.

    Nothing to merge when no stored row of these series falls inside the batch's
    time span, so the staging table and the ``ON CONFLICT`` merge are skipped.
    A concurrent writer that slips a row in between the check and the COPY makes
    the COPY fail on the primary key; the savepoint is rolled back and the caller
    falls back to the merge. Returns True when the rows were written.
    """
    import psycopg2

    lo, hi = int(times_us.min()) - PG_EPOCH_US, int(times_us.max()) - PG_EPOCH_US
    sids = sorted({int(s) for s in np.unique(series_ids)})
    overlap = conn.exec_driver_sql(
        f"SELECT EXISTS (SELECT 1 FROM {table} WHERE series_id = ANY(%(sids)s)"
        " AND time BETWEEN TIMESTAMPTZ '2000-01-01 00:00:00+00' + %(lo)s * INTERVAL '1 microsecond'"
        " AND TIMESTAMPTZ '2000-01-01 00:00:00+00' + %(hi)s * INTERVAL '1 microsecond')",
        {"sids": sids, "lo": lo, "hi": hi},
    ).scalar()
    if overlap:
        return False
    cols = ", ".join(("series_id", "time", *_PRICE_COLUMNS))
    savepoint = conn.begin_nested()
    try:
        with conn.connection.dbapi_connection.cursor() as cur:
            cur.copy_expert(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT binary)", io.BytesIO(payload),
                            size=1 << 22)
    except psycopg2.IntegrityError:
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


def copy_out(conn: Connection, select_sql: str, params: dict, fields: list[tuple[str, str]]
             ) -> np.ndarray:
    """Run ``COPY (select_sql) TO STDOUT (FORMAT binary)`` and decode the rows.

    ``select_sql`` uses psycopg2 ``%(name)s`` placeholders; values are bound by
    ``mogrify`` (COPY itself takes no parameters).
    """
    raw = conn.connection.dbapi_connection
    buf = io.BytesIO()
    with raw.cursor() as cur:
        query = cur.mogrify(select_sql, params).decode()
        cur.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT binary)", buf, size=1 << 22)
    return decode_copy(buf.getvalue(), fields)
