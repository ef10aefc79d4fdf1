"""Candle upserts and reads against real PostgreSQL and SQLite (``engine`` is parametrised)."""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.orm import Session

from app.market import store
from app.marketdata import OHLCV

pytestmark = pytest.mark.integration


def candles(n: int, start: str = "2024-03-01", freq: str = "1min", seed: int = 0) -> pd.DataFrame:
    """Full-precision random floats, so a lossy round trip (text, float32) would show."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range(start, periods=n, freq=freq, tz="UTC", name="time")
    values = rng.random((n, 5)) * np.array([60_000, 60_000, 60_000, 60_000, 1e3]) + 1e-9
    return pd.DataFrame(values, index=idx, columns=OHLCV)


def same(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(actual, expected, check_exact=True, check_freq=False)
    assert str(actual.index.tz) == "UTC" and actual.index.name == "time"


@pytest.fixture
def sid(engine):
    with engine.begin() as conn:
        return store.get_or_create_series(conn, "binance", "BTC/USDT", "1m")


def test_insert_then_read_back_identical(engine, sid):
    df = candles(500)
    df.iloc[7] = [0.1, 0.2, 0.30000000000000004, 1e-300, 123456789.123456789]
    with engine.begin() as conn:
        assert store.upsert_candles(conn, sid, df) == 500
    with engine.connect() as conn:
        out = store.load_candles(conn, sid)
        assert out.dtypes.tolist() == ["float64"] * 5
        same(out, df)
        assert store.count_candles(conn, sid) == 500
        assert store.last_candle_time(conn, sid) == df.index[-1].to_pydatetime()
        assert store.last_candle_time(conn, sid).tzinfo is not None


def test_microsecond_times_survive(engine, sid):
    idx = pd.DatetimeIndex(["2024-01-01 00:00:00.000001", "2024-06-30 23:59:59.999999"], tz="UTC", name="time")
    df = pd.DataFrame(np.arange(10, dtype="float64").reshape(2, 5) + 0.5, index=idx, columns=OHLCV)
    with engine.begin() as conn:
        store.bulk_upsert_candles(conn, sid, df)
    with engine.connect() as conn:
        same(store.load_candles(conn, sid), df)


def test_reingesting_same_rows_stores_each_bar_once(engine, sid):
    df = candles(300)
    with engine.begin() as conn:
        assert store.upsert_candles(conn, sid, df) == 300
        assert store.upsert_candles(conn, sid, df) == 0  # identical values: nothing rewritten
        assert store.bulk_upsert_candles(conn, sid, df) == 0
    with engine.connect() as conn:
        assert store.count_candles(conn, sid) == 300
        same(store.load_candles(conn, sid), df)


@pytest.mark.parametrize("path", ["row", "bulk"])
def test_changed_bar_is_updated(engine, sid, path):
    write = store.upsert_candles if path == "row" else store.bulk_upsert_candles
    df = candles(50)
    with engine.begin() as conn:
        write(conn, sid, df)
    changed = df.iloc[-2:].copy()
    changed["close"] += 1.25
    changed["volume"] = 0.0
    extra = candles(3, start=str(df.index[-1] + pd.Timedelta(minutes=1)), seed=9)
    with engine.begin() as conn:
        assert write(conn, sid, pd.concat([changed, extra])) == 5
    expected = pd.concat([df.iloc[:-2], changed, extra])
    with engine.connect() as conn:
        same(store.load_candles(conn, sid), expected)


def test_bulk_path_matches_row_path(engine):
    df = candles(3000, seed=3)
    update = candles(1000, start="2024-03-03 01:20", seed=4)  # rewrites the last 40 bars, extends past them
    with engine.begin() as conn:
        row_sid = store.get_or_create_series(conn, "binance", "ETH/USDT", "1m")
        bulk_sid = store.get_or_create_series(conn, "kraken", "ETH/USDT", "1m")
        written_row = [store.upsert_candles(conn, row_sid, df), store.upsert_candles(conn, row_sid, update)]
        written_bulk = [store.bulk_upsert_candles(conn, bulk_sid, df), store.bulk_upsert_candles(conn, bulk_sid, update)]
    assert written_row == written_bulk == [3000, 1000]
    with engine.connect() as conn:
        row, bulk = store.load_candles(conn, row_sid), store.load_candles(conn, bulk_sid)
    same(bulk, row)
    assert len(row) == 3000 + 1000 - 40


def test_large_upsert_handed_to_bulk_path_is_identical(engine, sid):
    df = candles(store.BULK_THRESHOLD + 7, seed=5)
    with engine.begin() as conn:
        assert store.upsert_candles(conn, sid, df) == len(df)
    with engine.connect() as conn:
        same(store.load_candles(conn, sid), df)


def test_multi_series_bulk_in_one_call(engine):
    with engine.begin() as conn:
        ids = [store.get_or_create_series(conn, "binance", s, "5m") for s in ("BTC/USDT", "ETH/USDT", "SOL/USDT")]
    frames = {sid: candles(400 + 10 * k, freq="5min", seed=k) for k, sid in enumerate(ids)}
    # shuffled rows, series interleaved: the store sorts them itself
    both = pd.concat([f.assign(series_id=sid) for sid, f in frames.items()]).sample(frac=1.0, random_state=1)
    with engine.begin() as conn:
        assert store.bulk_upsert_candles(conn, both) == sum(len(f) for f in frames.values())
    as_multiindex = pd.concat(frames, names=["series_id", "time"])
    with engine.begin() as conn:
        assert store.bulk_upsert_candles(conn, as_multiindex) == 0
    with engine.connect() as conn:
        for sid, f in frames.items():
            same(store.load_candles(conn, sid), f)


def test_latest_n_is_ascending(engine, sid):
    df = candles(100)
    with engine.begin() as conn:
        store.upsert_candles(conn, sid, df.sample(frac=1.0, random_state=2))  # unsorted input is fine
    with engine.connect() as conn:
        same(store.load_candles(conn, sid, limit=10), df.iloc[-10:])
        same(store.load_candles(conn, sid, end=df.index[50], limit=5), df.iloc[45:50])
        assert store.load_candles(conn, sid, limit=0).empty
        same(store.load_candles(conn, sid, limit=1000), df)


def test_time_range_is_half_open(engine, sid):
    df = candles(120, freq="1h")
    with engine.begin() as conn:
        store.upsert_candles(conn, sid, df)
    start, end = df.index[10], df.index[20]
    with engine.connect() as conn:
        same(store.load_candles(conn, sid, start=start, end=end), df.iloc[10:20])
        same(store.load_candles(conn, sid, start=start.to_pydatetime()), df.iloc[10:])
        same(store.load_candles(conn, sid, end=end.tz_convert("Asia/Tokyo")), df.iloc[:20])
        times = store.candle_times(conn, sid, start, end)
        pd.testing.assert_index_equal(times, df.index[10:20], check_exact=True)
        with pytest.raises(ValueError, match="timezone-aware"):
            store.load_candles(conn, sid, start=datetime(2024, 3, 1))


def test_empty_series_reads(engine, sid):
    with engine.connect() as conn:
        out = store.load_candles(conn, sid)
        assert out.empty and list(out.columns) == OHLCV and str(out.index.tz) == "UTC"
        assert store.last_candle_time(conn, sid) is None
        assert store.count_candles(conn, sid) == 0
        assert len(store.candle_times(conn, sid, datetime(2020, 1, 1, tzinfo=timezone.utc), None)) == 0


def test_works_through_an_orm_session(engine, sid):
    df = candles(20)
    with Session(engine) as session:
        assert store.upsert_candles(session, sid, df) == 20
        assert store.bulk_upsert_candles(session, sid, candles(5, start="2025-01-01")) == 5
        session.commit()
    with Session(engine) as session:
        assert store.count_candles(session, sid) == 25
        same(store.load_candles(session, sid, limit=20, end=pd.Timestamp("2025-01-01", tz="UTC")), df)
