"""make_source wiring and pagination across many pages / empty windows."""
from __future__ import annotations

import pandas as pd
import pytest

from app.market.sources import Source, make_source
from app.market.sources.http import RetryPolicy
from app.settings import Settings
from tests.fakes.candles import FakeClock, make_candles
from tests.fakes.exchange import FakeExchange


def test_make_source_uses_settings():
    s = Settings(binance_base_url="http://127.0.0.1:1/", coinbase_base_url="http://127.0.0.1:2",
                 kraken_base_url="http://127.0.0.1:3", http_timeout_s=2.5)
    for name, url in (("binance", "http://127.0.0.1:1"), ("Coinbase", "http://127.0.0.1:2"),
                      ("kraken", "http://127.0.0.1:3")):
        src = make_source(name, s)
        assert isinstance(src, Source) and src.name == name.lower()
        assert src.http.base_url == url and src.http.timeout_s == 2.5
        src.close()
    with pytest.raises(ValueError, match="unknown market data source 'ftx'"):
        make_source("ftx", s)


@pytest.fixture
def big_world():
    series = make_candles(10_500)
    holed = series.drop(series.index[3000:3700])  # 700 minutes without trades
    with FakeExchange({"BTC/USDT": series, "BTC/USD": holed}) as fake:
        clock = FakeClock()
        settings = Settings(binance_base_url=fake.base_url, coinbase_base_url=fake.base_url,
                            kraken_base_url=fake.base_url)

        def make(name):
            return make_source(name, settings, sleep=clock.sleep, monotonic=clock, min_interval_s=0,
                               retry=RetryPolicy(max_retries=3), clock=lambda: fake.now.to_pydatetime())
        yield fake, series, holed, make


def test_binance_pagination_is_complete_over_many_pages(big_world):
    fake, series, _, make = big_world
    df = make("binance").fetch_candles("BTC/USDT", "1m", series.index[0].to_pydatetime(),
                                       fake.now.to_pydatetime())
    assert len(fake.requests_to("/api/v3/klines")) == 11
    pd.testing.assert_frame_equal(df, series, check_freq=False, check_index_type=False)


def test_binance_pagination_survives_faults_mid_way(big_world):
    fake, series, _, make = big_world
    src = make("binance")
    fake.fail_next(1, 429, retry_after=3, path="/api/v3/klines")
    fake.truncate_next(1, path="/api/v3/klines")
    fake.fail_next(1, 502, path="/api/v3/klines")
    df = src.fetch_candles("BTC/USDT", "1m", series.index[0].to_pydatetime(), fake.now.to_pydatetime())
    pd.testing.assert_frame_equal(df, series, check_freq=False, check_index_type=False)
    assert len(fake.requests_to("/api/v3/klines")) == 11 + 3


def test_coinbase_keeps_paging_past_empty_windows(big_world):
    fake, _, holed, make = big_world
    df = make("coinbase").fetch_candles("BTC/USD", "1m", holed.index[0].to_pydatetime(),
                                        fake.now.to_pydatetime())
    assert len(fake.requests_to("/products/BTC-USD/candles")) == 35  # ceil(10500 / 300)
    pd.testing.assert_frame_equal(df, holed, check_freq=False, check_index_type=False)
