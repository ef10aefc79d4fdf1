"""Candle ingestion benchmark: the COPY bulk path against plain ORM inserts on PostgreSQL.

Run from the repo root: ``.venv/bin/python bench/ingest.py``. It creates a
throwaway database (``cw_bench_<random>``) through the admin URL in
``BENCH_PG_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``) and
drops it at the end.

Measured, each pass committed and timed end to end (validation, encoding,
round trips, merge, commit):

* bulk insert: 1,000,000 candles (10 series x 100,000 1m bars) in ONE
  ``bulk_upsert_candles`` call into empty tables;
* bulk update: the same keys again with every price changed, so every row is
  UPDATEd by the ``ON CONFLICT`` merge;
* ORM insert: ``session.add(Candle(...))`` per row, one commit, on a 20,000-row slice
  (SQLAlchemy 2 flushes these as batched multi-row INSERTs: the fair, fast ORM
  baseline, and the one the RESULT speedup uses); for information also the
  naive loop that commits after every ``add``, on 2,000 rows;
* ORM update: those 20,000 rows loaded as objects, every price changed, one commit;
* for reference, the Core row path ``upsert_candles`` (batched executemany) on
  a 20,000-row slice, and reading one 100,000-bar series back with ``load_candles``.

The last four lines are the ``RESULT`` lines.
"""
from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.extensions import db  # noqa: E402
from app.market import store  # noqa: E402
from app.marketdata import OHLCV  # noqa: E402
from app.models.market import Candle  # noqa: E402

N_SERIES = 10
BARS_PER_SERIES = 100_000
ORM_ROWS = 20_000
COMMIT_EACH_ROWS = 2_000


def pg_url(url: str, database: str | None = None):
    """The URL with the psycopg2 driver (pinned; SQLAlchemy 2.1 defaults to psycopg 3)."""
    u = make_url(url)
    if u.drivername == "postgresql":
        u = u.set(drivername="postgresql+psycopg2")
    return u.set(database=database) if database else u


def candles(n: int, start: str, seed: int) -> pd.DataFrame:
    """A random-walk candle frame with awkward (full-precision) floats."""
    rng = np.random.default_rng(seed)
    close = 30_000 * np.exp(np.cumsum(rng.normal(0, 1e-3, n)))
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) * (1 + rng.random(n) * 1e-3)
    low = np.minimum(open_, close) * (1 - rng.random(n) * 1e-3)
    volume = rng.random(n) * 50
    idx = pd.date_range(start, periods=n, freq="1min", tz="UTC", name="time")
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=idx)


def bumped(frame: pd.DataFrame) -> pd.DataFrame:
    """Every price changed a little, so an upsert must UPDATE every row."""
    out = frame.copy()
    out[OHLCV] = out[OHLCV] * 1.0001
    return out


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run(engine) -> dict[str, float]:
    db.metadata.create_all(engine)
    with engine.begin() as conn:
        sids = [store.get_or_create_series(conn, "bench", f"S{i}/USDT", "1m") for i in range(N_SERIES)]
        orm_sid = store.get_or_create_series(conn, "bench", "ORM/USDT", "1m")
        core_sid = store.get_or_create_series(conn, "bench", "CORE/USDT", "1m")
        naive_sid = store.get_or_create_series(conn, "bench", "NAIVE/USDT", "1m")
    frames = [candles(BARS_PER_SERIES, "2020-01-01", seed=i) for i in range(N_SERIES)]
    big = pd.concat([f.assign(series_id=s) for s, f in zip(sids, frames)])
    big_update = bumped(big).assign(series_id=big["series_id"])
    n_bulk = len(big)
    out: dict[str, float] = {}

    def bulk(frame):
        with engine.begin() as conn:
            written = store.bulk_upsert_candles(conn, frame)
        assert written == n_bulk, f"bulk path wrote {written} rows, expected {n_bulk}"

    out["bulk_insert"] = n_bulk / timed(lambda: bulk(big))
    out["bulk_update"] = n_bulk / timed(lambda: bulk(big_update))
    with engine.connect() as conn:
        back = store.load_candles(conn, sids[3])
        assert back.equals(big_update[big_update["series_id"] == sids[3]][OHLCV]), "read-back differs"
        out["read"] = len(back) / timed(lambda: store.load_candles(conn, sids[3]))

    small = frames[0].iloc[:ORM_ROWS]
    rows = list(zip(small.index.to_pydatetime(), *(small[c].tolist() for c in OHLCV)))

    def orm_insert():
        with Session(engine) as session:
            for t, o, h, lo, c, v in rows:
                session.add(Candle(series_id=orm_sid, time=t, open=o, high=h, low=lo, close=c, volume=v))
            session.commit()

    def orm_update():
        with Session(engine) as session:
            by_time = {obj.time: obj for obj in session.scalars(select(Candle).where(Candle.series_id == orm_sid))}
            for t, o, h, lo, c, v in rows:
                obj = by_time[t]
                obj.open, obj.high, obj.low, obj.close, obj.volume = o * 1.0001, h * 1.0001, lo * 1.0001, c * 1.0001, v * 1.0001
            session.commit()

    def orm_commit_each():
        with Session(engine) as session:
            for t, o, h, lo, c, v in rows[:COMMIT_EACH_ROWS]:
                session.add(Candle(series_id=naive_sid, time=t, open=o, high=h, low=lo, close=c, volume=v))
                session.commit()

    out["orm_insert"] = ORM_ROWS / timed(orm_insert)
    out["orm_update"] = ORM_ROWS / timed(orm_update)
    out["orm_commit_each"] = COMMIT_EACH_ROWS / timed(orm_commit_each)

    def core(frame):
        with engine.begin() as conn:
            store._row_upsert(  # the executemany row path itself, below the bulk threshold's hand-off
                conn, np.full(len(frame), core_sid), *store._frame_arrays(frame))

    out["core_insert"] = ORM_ROWS / timed(lambda: core(small))
    out["core_update"] = ORM_ROWS / timed(lambda: core(bumped(small)))
    return out


def main() -> None:
    admin_url = pg_url(os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    name = f"cw_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine = create_engine(pg_url(admin_url, name))
    try:
        r = run(engine)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
    rows = N_SERIES * BARS_PER_SERIES
    print(f"PostgreSQL candle ingestion, {os.cpu_count()} CPUs")
    print(f"{'path':<44}{'rows':>10}{'rows/s':>14}")
    for label, key, n in [
        ("bulk_upsert_candles insert (COPY, new range)", "bulk_insert", rows),
        ("bulk_upsert_candles update (all changed)", "bulk_update", rows),
        ("ORM session.add + commit insert", "orm_insert", ORM_ROWS),
        ("ORM load objects + modify + commit update", "orm_update", ORM_ROWS),
        ("ORM add + commit per row (naive) insert", "orm_commit_each", COMMIT_EACH_ROWS),
        ("Core executemany upsert insert (row path)", "core_insert", ORM_ROWS),
        ("Core executemany upsert update (row path)", "core_update", ORM_ROWS),
        ("load_candles read (one series)", "read", BARS_PER_SERIES),
    ]:
        print(f"{label:<44}{n:>10,}{r[key]:>14,.0f}")
    print(f"update speedup bulk vs ORM: {r['bulk_update'] / r['orm_update']:.1f} x")
    print(f"insert speedup bulk vs naive commit-per-row ORM: {r['bulk_insert'] / r['orm_commit_each']:.1f} x")
    print(f"RESULT bulk_upsert_rows_per_s {r['bulk_insert']:.0f} rows/s")
    print(f"RESULT bulk_update_rows_per_s {r['bulk_update']:.0f} rows/s")
    print(f"RESULT orm_insert_rows_per_s {r['orm_insert']:.0f} rows/s")
    print(f"RESULT bulk_vs_orm_speedup {r['bulk_insert'] / r['orm_insert']:.1f} x")


if __name__ == "__main__":
    main()
