"""Kraken source against the fake: XBT naming, the forming last row, 720-bar history, errors."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from app.market.sources.errors import ExchangeUnavailableError, UnknownSymbolError
from app.market.sources.kraken import from_kraken_wsname, kraken_asset, to_kraken_pair
from tests.fakes.candles import SERIES

T0 = SERIES.index[0].to_pydatetime()


def test_pair_naming():
    assert to_kraken_pair("BTC/USD") == "XBTUSD"
    assert to_kraken_pair("DOGE/USD") == "XDGUSD"
    assert to_kraken_pair("ETH/BTC") == "ETHXBT"
    assert from_kraken_wsname("XBT/USD") == "BTC/USD"
    assert kraken_asset("XXBT") == "BTC" and kraken_asset("ZUSD") == "USD" and kraken_asset("SOL") == "SOL"


def test_recent_bars_without_the_forming_row(fake, source_factory):
    src = source_factory("kraken")
    since = SERIES.index[-100]
    df = src.fetch_candles("BTC/USD", "1m", since.to_pydatetime(), fake.now.to_pydatetime())
    pd.testing.assert_frame_equal(df, SERIES.iloc[-100:], check_freq=False, check_index_type=False)
    (req,) = fake.requests_to("/0/public/OHLC")
    assert req.params == {"pair": "XBTUSD", "interval": "1", "since": str(int(since.timestamp()) - 1)}


def test_last_row_is_dropped_even_if_clock_says_closed(fake, source_factory):
    # Kraken's last row is the forming bar; even with a clock far ahead we never store it.
    fake.now = SERIES.index[-1] + pd.Timedelta(seconds=30)
    src = source_factory("kraken", clock=lambda: (fake.now + pd.Timedelta(days=1)).to_pydatetime())
    df = src.fetch_candles("BTC/USD", "1m", SERIES.index[-10].to_pydatetime(), fake.now.to_pydatetime())
    assert df.index[-1] == SERIES.index[-2]


def test_history_is_limited_to_720_bars(fake, source_factory):
    src = source_factory("kraken")
    assert src.max_history_bars == 720
    df = src.fetch_candles("BTC/USD", "1m", T0, fake.now.to_pydatetime())
    # 720 rows returned, the last of them forming: 719 closed bars, the most recent ones
    assert len(df) == 719
    assert df.index[-1] == SERIES.index[-1] and df.index[0] == SERIES.index[-719]


def test_four_hour_interval(fake, source_factory):
    src = source_factory("kraken")
    df = src.fetch_candles("DOGE/USD", "4h", T0, fake.now.to_pydatetime())
    assert len(df) == len(SERIES) // 240
    assert fake.requests_to("/0/public/OHLC")[0].params["interval"] == "240"
    assert fake.requests_to("/0/public/OHLC")[0].params["pair"] == "XDGUSD"


def test_unknown_pair_error_in_body_with_http_200(fake, source_factory):
    with pytest.raises(UnknownSymbolError, match=r"kraken does not list NOPE/USD \(pair NOPEUSD\)"):
        source_factory("kraken").fetch_candles("NOPE/USD", "1m", T0, T0 + timedelta(hours=1))


def test_service_busy_is_retried(fake, clock, source_factory):
    fake.fail_next(2, 200, body={"error": ["EService:Busy"]})
    t = source_factory("kraken").fetch_ticker("BTC/USD")
    assert t.price == pytest.approx(SERIES.close.iloc[-1])
    assert clock.sleeps == [0.5, 1.0]


def test_service_unavailable_persisting_gives_up(fake, source_factory):
    fake.fail_next(10, 200, body={"error": ["EService:Unavailable"]})
    with pytest.raises(ExchangeUnavailableError, match="EService:Unavailable"):
        source_factory("kraken").list_symbols()


def test_ticker_fields(fake, source_factory):
    t = source_factory("kraken").fetch_ticker("BTC/USD")
    today = SERIES[SERIES.index >= fake.now.normalize()]
    day = SERIES[SERIES.index >= fake.now - pd.Timedelta(hours=24)]
    assert t.symbol == "BTC/USD"
    assert t.volume_24h == pytest.approx(day.volume.sum())
    assert t.change_24h_pct == pytest.approx((SERIES.close.iloc[-1] / today.open.iloc[0] - 1) * 100)
    assert pd.Timestamp(t.time) == fake.now


def test_list_symbols_maps_xbt_and_xdg(source_factory):
    assert source_factory("kraken").list_symbols() == ["BTC/USD", "BTC/USDT", "DOGE/USD", "ETH/USDT"]


def test_min_interval_is_one_second_by_default(fake, clock, source_factory):
    src = source_factory("kraken", min_interval_s=None)
    src.list_symbols()
    src.list_symbols()
    assert clock.sleeps == [1.0]
