"""Bad frames are refused with a clear ValueError and write nothing."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.exc import IntegrityError

from app.market import store
from app.marketdata import OHLCV

pytestmark = pytest.mark.integration


def good(n: int = 5) -> pd.DataFrame:
    idx = pd.date_range("2024-01-01", periods=n, freq="1min", tz="UTC", name="time")
    return pd.DataFrame(np.arange(n * 5, dtype="float64").reshape(n, 5) + 1, index=idx, columns=OHLCV)


def naive(df):
    return df.tz_localize(None)


def missing_volume(df):
    return df.drop(columns="volume")


def with_nan(df):
    df.iloc[2, 1] = np.nan
    return df


def with_inf(df):
    df.iloc[0, 4] = np.inf
    return df


def duplicated(df):
    return pd.concat([df, df.iloc[[1]]])


def text_prices(df):
    return df.astype({"open": "object"}).assign(open=["1", "2", "x", "4", "5"])


def integer_index(df):
    return df.reset_index(drop=True)


def with_nat(df):
    idx = df.index.tolist()
    idx[3] = pd.NaT
    return df.set_axis(pd.DatetimeIndex(idx, name="time"))


def sub_microsecond(df):
    return df.set_axis(df.index.as_unit("ns") + pd.Timedelta(nanoseconds=5))


BAD = [
    (naive, "naive"),
    (missing_volume, "missing column.*volume"),
    (with_nan, "missing or infinite value.*high at 2024-01-01T00:02:00"),
    (with_inf, "missing or infinite value.*volume"),
    (duplicated, "duplicate bar times.*00:01:00"),
    (text_prices, "non-numeric"),
    (integer_index, "DatetimeIndex"),
    (with_nat, "NaT"),
    (sub_microsecond, "sub-microsecond"),
]


@pytest.mark.parametrize("path", ["row", "bulk"])
@pytest.mark.parametrize("spoil, message", BAD, ids=[f.__name__ for f, _ in BAD])
def test_bad_frame_is_refused_and_nothing_written(engine, path, spoil, message):
    write = store.upsert_candles if path == "row" else store.bulk_upsert_candles
    with engine.begin() as conn:
        sid = store.get_or_create_series(conn, "binance", "BTC/USDT", "1m")
    with engine.connect() as conn:
        store.upsert_candles(conn, sid, good(2).shift(1, freq="D"))  # earlier work in the same transaction
        with pytest.raises(ValueError, match=message):
            write(conn, sid, spoil(good()))
        conn.commit()  # the caller's transaction is still usable
    with engine.connect() as conn:
        assert store.count_candles(conn, sid) == 2


def test_unknown_series_is_refused(engine):
    with engine.connect() as conn:
        with pytest.raises(ValueError, match="unknown series id"):
            store.upsert_candles(conn, 999, good())
        with pytest.raises(ValueError, match="series_id must be a positive integer"):
            store.bulk_upsert_candles(conn, "1", good())


def test_bad_multi_series_frames(engine):
    with engine.begin() as conn:
        sid = store.get_or_create_series(conn, "binance", "BTC/USDT", "1m")
    frame = good().assign(series_id=sid)
    with engine.connect() as conn:
        with pytest.raises(ValueError, match="series_id column"):
            store.bulk_upsert_candles(conn, good())
        with pytest.raises(ValueError, match=r"duplicate \(series_id, time\)"):
            store.bulk_upsert_candles(conn, pd.concat([frame, frame.iloc[:1]]))
        with pytest.raises(ValueError, match="positive integers"):
            store.bulk_upsert_candles(conn, frame.assign(series_id=1.5))
        with pytest.raises(ValueError, match="unknown series id"):
            store.bulk_upsert_candles(conn, pd.concat([frame, good().assign(series_id=sid + 1)]))
        with pytest.raises(ValueError, match="naive"):
            store.bulk_upsert_candles(conn, naive(frame))
        assert store.count_candles(conn, sid) == 0


@pytest.fixture
def volume_rule(engine):
    """A server-side rule the store does not pre-check: volume must stay below 20."""
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        if postgres:
            conn.exec_driver_sql("ALTER TABLE candles ADD CONSTRAINT ck_test_volume CHECK (volume < 20)")
        else:
            conn.exec_driver_sql(
                "CREATE TRIGGER test_volume BEFORE INSERT ON candles WHEN NEW.volume >= 20"
                " BEGIN SELECT RAISE(ABORT, 'volume too big'); END"
            )
    yield
    with engine.begin() as conn:
        if postgres:
            conn.exec_driver_sql("ALTER TABLE candles DROP CONSTRAINT ck_test_volume")
        else:
            conn.exec_driver_sql("DROP TRIGGER test_volume")


@pytest.mark.parametrize("path", ["row", "bulk"])
def test_failed_write_rolls_back_to_its_savepoint(engine, volume_rule, path):
    """A database error in the middle of a write leaves none of that write behind."""
    write = store.upsert_candles if path == "row" else store.bulk_upsert_candles
    with engine.begin() as conn:
        sid = store.get_or_create_series(conn, "binance", "BTC/USDT", "1m")
        store.upsert_candles(conn, sid, good(2).shift(1, freq="D"))
    with engine.connect() as conn:
        store.upsert_candles(conn, sid, good(2).shift(2, freq="D"))  # earlier work in the same transaction
        with pytest.raises(IntegrityError):
            write(conn, sid, good())  # the first rows pass the rule, the last two break it
        conn.commit()  # the caller's transaction is still usable
    with engine.connect() as conn:
        assert store.count_candles(conn, sid) == 4
