"""Coinbase source against the fake: 300-candle windows, field order, no 4h, errors."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from app.market.resample import resample_candles
from app.market.sources.coinbase import from_product_id, to_product_id
from app.market.sources.errors import BadPayloadError, UnknownSymbolError, UnsupportedTimeframeError
from app.market.sources.factory import fetch_candles_any, finest_supported
from tests.fakes.candles import SERIES

T0 = SERIES.index[0].to_pydatetime()


def test_product_id_mapping():
    assert to_product_id("btc/usd") == "BTC-USD"
    assert from_product_id("ETH-EUR") == "ETH/EUR"
    with pytest.raises(ValueError):
        from_product_id("BTCUSD")


def test_fetches_all_bars_in_windows_of_at_most_300(fake, source_factory):
    src = source_factory("coinbase")
    df = src.fetch_candles("BTC/USD", "1m", T0, fake.now.to_pydatetime())
    # newest-first [time, low, high, open, close, volume] mapped to our columns exactly
    pd.testing.assert_frame_equal(df, SERIES, check_freq=False, check_index_type=False)
    reqs = fake.requests_to("/products/BTC-USD/candles")
    assert len(reqs) == 9  # ceil(2500 / 300)
    spans = [(pd.Timestamp(r.params["start"]), pd.Timestamp(r.params["end"])) for r in reqs]
    for (a, b), (c, _) in zip(spans, spans[1:]):
        assert (b - a) / pd.Timedelta(minutes=1) + 1 <= 300  # within the documented limit
        assert c == b + pd.Timedelta(minutes=1)               # windows touch, no gap, no overlap
    assert all(r.params["granularity"] == "60" for r in reqs)


def test_four_hours_is_not_supported_natively(source_factory):
    src = source_factory("coinbase")
    assert "4h" not in src.supported_timeframes and "1h" in src.supported_timeframes
    with pytest.raises(UnsupportedTimeframeError, match="coinbase has no 4h candles"):
        src.fetch_candles("BTC/USD", "4h", T0, T0 + timedelta(days=1))
    assert finest_supported(src, "4h") == "1h"


def test_fetch_candles_any_builds_4h_from_1h(fake, source_factory):
    src = source_factory("coinbase")
    df = fetch_candles_any(src, "BTC/USD", "4h", T0 + timedelta(minutes=1), fake.now.to_pydatetime())
    expected = resample_candles(SERIES, "1m", "4h")
    # since is 00:01: the 00:00 bar opens before it and is left out; complete bars only
    pd.testing.assert_frame_equal(df, expected.iloc[1:], check_freq=False, check_index_type=False)
    assert len(df) == len(SERIES) // 240 - 1
    assert {r.params["granularity"] for r in fake.requests_to("/products/BTC-USD/candles")} == {"3600"}


def test_bars_before_start_and_forming_bar_are_filtered(fake, source_factory):
    fake.now = SERIES.index[-1] + pd.Timedelta(seconds=10)
    src = source_factory("coinbase")
    since = SERIES.index[-50].to_pydatetime()
    df = src.fetch_candles("BTC/USD", "1m", since, (fake.now + pd.Timedelta(hours=2)).to_pydatetime())
    assert list(df.index) == list(SERIES.index[-50:-1])


def test_unknown_product_is_a_clear_error(source_factory):
    with pytest.raises(UnknownSymbolError, match=r"coinbase does not list NOPE/USD \(product NOPE-USD\)"):
        source_factory("coinbase").fetch_ticker("NOPE/USD")


def test_bad_candle_row_is_a_bad_payload(fake, source_factory):
    fake.fail_next(1, 200, body=[["2024-01-01", 1, 2, 1, 1, 1]])
    with pytest.raises(BadPayloadError, match="not an integer of seconds"):
        source_factory("coinbase").fetch_candles("BTC/USD", "1m", T0, T0 + timedelta(minutes=5))


def test_ticker_uses_ticker_and_stats(fake, source_factory):
    t = source_factory("coinbase").fetch_ticker("BTC/USD")
    day = SERIES[SERIES.index >= fake.now - pd.Timedelta(hours=24)]
    assert t.price == pytest.approx(SERIES.close.iloc[-1])
    assert t.change_24h_pct == pytest.approx((day.close.iloc[-1] / day.open.iloc[0] - 1) * 100)
    assert t.volume_24h == pytest.approx(day.volume.sum())
    assert pd.Timestamp(t.time) == fake.now
    assert {r.path for r in fake.requests} == {"/products/BTC-USD/ticker", "/products/BTC-USD/stats"}


def test_list_symbols(source_factory):
    assert source_factory("coinbase").list_symbols() == ["BTC/USD", "BTC/USDT", "DOGE/USD", "ETH/USDT"]
