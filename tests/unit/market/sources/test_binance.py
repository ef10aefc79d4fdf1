"""Binance source against the fake: mapping, pagination, closed bars, errors."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from app.market.sources.binance import from_binance_symbol, to_binance_symbol
from app.market.sources.errors import BadPayloadError, UnknownSymbolError
from tests.fakes.candles import SERIES

T0 = SERIES.index[0].to_pydatetime()


def test_symbol_mapping_both_ways():
    assert to_binance_symbol("btc/usdt") == "BTCUSDT"
    assert from_binance_symbol("BTCUSDT") == "BTC/USDT"
    assert from_binance_symbol("ETHBTC") == "ETH/BTC"
    assert from_binance_symbol("SOLFDUSD") == "SOL/FDUSD"  # longest quote wins over USD-less guesses
    with pytest.raises(ValueError, match="unknown quote"):
        from_binance_symbol("FOOBAR")


def test_fetches_every_closed_bar_across_pages(fake, source_factory):
    src = source_factory("binance")
    df = src.fetch_candles("BTC/USDT", "1m", T0, fake.now.to_pydatetime())
    assert len(df) == len(SERIES)
    pd.testing.assert_frame_equal(df, SERIES, check_freq=False, check_index_type=False)
    assert str(df.index.tz) == "UTC" and df.index.name == "time"
    pages = fake.requests_to("/api/v3/klines")
    assert len(pages) == 3  # 1000 + 1000 + 500
    starts = [int(r.params["startTime"]) for r in pages]
    t0_ms = int(SERIES.index[0].timestamp() * 1000)
    assert starts == [t0_ms, t0_ms + 1000 * 60_000, t0_ms + 2000 * 60_000]
    assert all(r.params["limit"] == "1000" and r.params["interval"] == "1m" for r in pages)


def test_excludes_the_bar_still_forming(fake, source_factory):
    # now is 30 s into the last bar of the series: that bar has not closed
    fake.now = SERIES.index[-1] + pd.Timedelta(seconds=30)
    src = source_factory("binance")
    df = src.fetch_candles("BTC/USDT", "1m", T0, (fake.now + pd.Timedelta(hours=1)).to_pydatetime())
    assert df.index[-1] == SERIES.index[-2]
    assert len(df) == len(SERIES) - 1


def test_range_is_half_open(fake, source_factory):
    src = source_factory("binance")
    since, until = SERIES.index[10], SERIES.index[20]
    df = src.fetch_candles("BTC/USDT", "1m", since.to_pydatetime(), until.to_pydatetime())
    assert list(df.index) == list(SERIES.index[10:20])


def test_higher_timeframe_values(fake, source_factory):
    src = source_factory("binance")
    df = src.fetch_candles("BTC/USDT", "1h", T0, fake.now.to_pydatetime())
    first = SERIES.iloc[:60]
    assert df.index[0] == SERIES.index[0]
    assert df.iloc[0].tolist() == pytest.approx([first.open.iloc[0], first.high.max(), first.low.min(),
                                                 first.close.iloc[-1], first.volume.sum()])
    assert len(df) == len(SERIES) // 60  # 2500 min = 41 full hours + a forming one, dropped


def test_out_of_order_and_duplicate_rows_are_normalised(fake, source_factory):
    fake.out_of_order = True
    fake.duplicate_rows = True
    src = source_factory("binance")
    df = src.fetch_candles("BTC/USDT", "1m", T0, fake.now.to_pydatetime())
    assert df.index.is_monotonic_increasing and df.index.is_unique
    pd.testing.assert_frame_equal(df, SERIES, check_freq=False, check_index_type=False)


def test_unknown_symbol_is_a_clear_error(fake, source_factory):
    src = source_factory("binance")
    with pytest.raises(UnknownSymbolError, match=r"binance does not list NOPE/USDT \(NOPEUSDT\)"):
        src.fetch_candles("NOPE/USDT", "1m", T0, T0 + timedelta(hours=1))


def test_malformed_kline_is_a_bad_payload(fake, source_factory):
    src = source_factory("binance")
    fake.fail_next(1, 200, body=[[1704067200000, "1", "2", "0.5"]])
    with pytest.raises(BadPayloadError, match="at least 6 fields"):
        src.fetch_candles("BTC/USDT", "1m", T0, T0 + timedelta(hours=1))
    fake.fail_next(1, 200, body=[[1704067200000, "x", "2", "0.5", "1", "1"]])
    with pytest.raises(BadPayloadError, match="open is 'x'"):
        src.fetch_candles("BTC/USDT", "1m", T0, T0 + timedelta(hours=1))
    fake.fail_next(1, 200, body={"unexpected": True})
    with pytest.raises(BadPayloadError, match="expected a list"):
        src.fetch_candles("BTC/USDT", "1m", T0, T0 + timedelta(hours=1))


def test_ticker(fake, source_factory):
    t = source_factory("binance").fetch_ticker("BTC/USDT")
    day = SERIES[SERIES.index >= fake.now - pd.Timedelta(hours=24)]
    assert t.symbol == "BTC/USDT"
    assert t.price == pytest.approx(SERIES.close.iloc[-1])
    assert t.volume_24h == pytest.approx(day.volume.sum())
    assert t.change_24h_pct == pytest.approx((day.close.iloc[-1] / day.open.iloc[0] - 1) * 100, abs=1e-3)
    assert t.time.tzinfo is not None


def test_list_symbols(fake, source_factory):
    assert source_factory("binance").list_symbols() == ["BTC/USD", "BTC/USDT", "DOGE/USD", "ETH/USDT"]


def test_arguments_are_checked(source_factory):
    src = source_factory("binance")
    with pytest.raises(ValueError, match="timezone-aware"):
        src.fetch_candles("BTC/USDT", "1m", datetime(2024, 1, 1), datetime(2024, 1, 2))
    with pytest.raises(ValueError, match="must be after"):
        src.fetch_candles("BTC/USDT", "1m", T0, T0)
    with pytest.raises(ValueError, match="unknown timeframe"):
        src.fetch_candles("BTC/USDT", "2m", T0, T0 + timedelta(hours=1))
    with pytest.raises(ValueError, match="invalid symbol"):
        src.fetch_candles("BTCUSDT", "1m", T0, T0 + timedelta(hours=1))


def test_future_range_is_empty_without_a_request(fake, source_factory):
    src = source_factory("binance")
    later = fake.now.to_pydatetime() + timedelta(days=1)
    df = src.fetch_candles("BTC/USDT", "1m", later, later + timedelta(hours=1))
    assert df.empty and list(df.columns) == ["open", "high", "low", "close", "volume"]
    assert fake.requests == []
    assert datetime.now(timezone.utc) > T0  # sanity: the fake's clock is in the past
