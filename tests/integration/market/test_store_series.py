"""The series registry: idempotent, normalised, race-safe creation."""
from __future__ import annotations

import threading

import pandas as pd
import pytest

from app.market import store

pytestmark = pytest.mark.integration


def test_get_or_create_is_idempotent_and_normalised(engine):
    with engine.begin() as conn:
        a = store.get_or_create_series(conn, "binance", "BTC/USDT", "1h")
        b = store.get_or_create_series(conn, " Binance ", "btc/usdt", "1h")
        c = store.get_or_create_series(conn, "binance", "BTC/USDT", "4h")
    assert a == b != c
    with engine.connect() as conn:
        assert store.find_series(conn, "BINANCE", "BTC/usdt", "1h") == a
        assert store.find_series(conn, "binance", "ETH/USDT", "1h") is None
        series = store.list_series(conn)
    assert series[["id", "exchange", "symbol", "timeframe"]].values.tolist() == [
        [a, "binance", "BTC/USDT", "1h"], [c, "binance", "BTC/USDT", "4h"]]
    assert series["first"].isna().all() and str(series["first"].dt.tz) == "UTC"


def test_list_series_reports_first_and_last_bar(engine):
    idx = pd.date_range("2024-05-01", periods=24, freq="1h", tz="UTC", name="time")
    df = pd.DataFrame(1.0, index=idx, columns=store.OHLCV)
    with engine.begin() as conn:
        sid = store.get_or_create_series(conn, "kraken", "ETH/EUR", "1h")
        store.upsert_candles(conn, sid, df)
    with engine.connect() as conn:
        row = store.list_series(conn).iloc[0]
    assert (row["id"], row["first"], row["last"]) == (sid, idx[0], idx[-1])


@pytest.mark.parametrize("args, message", [
    (("", "BTC/USDT", "1m"), "invalid exchange"),
    (("binance", "BTCUSDT", "1m"), "invalid symbol"),
    (("binance", "BTC/USDT", "2m"), "unknown timeframe"),
])
def test_bad_series_keys_are_refused(engine, args, message):
    with engine.begin() as conn:
        with pytest.raises(ValueError, match=message):
            store.get_or_create_series(conn, *args)
        assert store.list_series(conn).empty


def test_concurrent_creation_yields_one_series(engine):
    """Two transactions create the same series; the second waits for the first and reuses its row."""
    if engine.dialect.name == "sqlite":  # one writer at a time: the race cannot happen, repeat instead
        with engine.begin() as conn:
            ids = {store.get_or_create_series(conn, "binance", "BTC/USDT", "1m") for _ in range(3)}
        assert len(ids) == 1
        return
    first = engine.connect()
    first.begin()
    a = store.get_or_create_series(first, "binance", "BTC/USDT", "1m")  # uncommitted yet
    results, errors = [], []

    def other():
        try:
            with engine.begin() as conn:
                results.append(store.get_or_create_series(conn, "binance", "BTC/USDT", "1m"))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    thread = threading.Thread(target=other)
    thread.start()
    thread.join(timeout=1.0)
    assert thread.is_alive(), "the second creator should wait on the first one's uncommitted row"
    first.commit()
    first.close()
    thread.join(timeout=30)
    assert not errors and results == [a]
    with engine.connect() as conn:
        assert len(store.list_series(conn)) == 1



def test_delete_series_removes_its_candles_only(engine):
    from tests.fakes.candles import make_candles

    frame = make_candles(50)
    with engine.begin() as conn:
        a = store.get_or_create_series(conn, "binance", "BTC/USDT", "1m")
        b = store.get_or_create_series(conn, "binance", "ETH/USDT", "1m")
        store.upsert_candles(conn, a, frame)
        store.upsert_candles(conn, b, frame)
        assert store.delete_series(conn, a) == 50
    with engine.connect() as conn:
        assert store.find_series(conn, "binance", "BTC/USDT", "1m") is None
        assert store.count_candles(conn, a) == 0 and store.count_candles(conn, b) == 50
