"""Finding 9: the exchange clients fed response bodies in the exchanges' real shapes (tests/fakes/recorded/).

Each body is served through the fake exchange (``fail_next(1, 200, body=...)``) so the whole client path runs:
HTTP, JSON, payload checks and parsing.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest

from app.market.sources.errors import BadPayloadError

RECORDED = Path(__file__).resolve().parents[2] / "fakes" / "recorded"
H = 3600
T_FIRST = 1718841600  # 2024-06-20 00:00 UTC, the first bar of the recorded hourly pages
NOW = datetime(2024, 6, 20, 3, 0, 0, 500000, tzinfo=timezone.utc)


def body(name: str):
    return json.loads((RECORDED / name).read_text(encoding="utf-8"))


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def expected_frame(rows: list[tuple]) -> pd.DataFrame:
    idx = pd.DatetimeIndex(pd.to_datetime([r[0] for r in rows], unit="s", utc=True), name="time").as_unit("ns")
    return pd.DataFrame([r[1:] for r in rows], index=idx, columns=["open", "high", "low", "close", "volume"],
                        dtype="float64")


BINANCE_BARS = expected_frame([
    (T_FIRST, 65062.01, 65202.0, 64912.0, 65048.77, 1016.34218),
    (T_FIRST + H, 65048.78, 65142.55, 64813.48, 64927.0, 843.26911),
    (T_FIRST + 2 * H, 64927.0, 65021.0, 64800.0, 64871.99, 659.49834),
])
COINBASE_BARS = expected_frame([
    (T_FIRST, 65060.33, 65199.93, 64909.92, 65045.2, 689.31255467),
    (T_FIRST + H, 65045.2, 65140.01, 64810.17, 64925.51, 538.12079842),
    (T_FIRST + 2 * H, 64925.5, 65019.99, 64798.01, 64866.11, 412.73811936),
])
KRAKEN_BARS = expected_frame([
    (T_FIRST, 65066.0, 65200.0, 64912.1, 65048.8, 152.78344261),
    (T_FIRST + H, 65048.8, 65142.5, 64813.5, 64927.0, 98.10471832),
    (T_FIRST + 2 * H, 64927.0, 65021.0, 64800.0, 64871.9, 77.55032197),
])


@pytest.fixture
def recorded_source(fake, source_factory):
    def make(name):
        return source_factory(name, clock=lambda: NOW)
    return make


# -- to_int: every integer field of every exchange -------------------------------------------

@pytest.mark.parametrize("value, expected", [(1718852399999, 1718852399999), ("1718852399999", 1718852399999),
                                             (" 42 ", 42), ("-7", -7), (1718852400.0, 1718852400)])
def test_to_int_accepts_integers_and_integer_valued_strings(value, expected):
    from app.market.sources.base import to_int

    assert to_int(value, "closeTime", "binance") == expected


@pytest.mark.parametrize("value", ["1718852399999.5", "1.7e12", "12abc", "", "0x10", None, True, 1.5, [], "١٢٣",
                                   float("nan")])
def test_to_int_refuses_non_integral_or_garbage_values_clearly(value):
    from app.market.sources.base import to_int

    with pytest.raises(BadPayloadError, match=r"binance: closeTime .* is not an integer"):
        to_int(value, "closeTime", "binance")


# -- Binance -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["binance_klines_1h.json", "binance_klines_1h_string_ints.json"])
def test_binance_klines_recorded(fake, recorded_source, name):
    fake.fail_next(1, 200, body=body(name), path="/api/v3/klines")
    df = recorded_source("binance").fetch_candles("BTC/USDT", "1h", at(T_FIRST), NOW)
    pd.testing.assert_frame_equal(df, BINANCE_BARS)


@pytest.mark.parametrize("name", ["binance_ticker_24hr.json", "binance_ticker_24hr_string_ints.json"])
def test_exchange_clients_binance_ticker_close_time_as_string(fake, recorded_source, name):
    fake.fail_next(1, 200, body=body(name), path="/api/v3/ticker/24hr")
    t = recorded_source("binance").fetch_ticker("BTC/USDT")
    assert (t.symbol, t.price, t.change_24h_pct, t.volume_24h) == ("BTC/USDT", 65049.54, -1.698, 20617.73651)
    assert t.time == datetime(2024, 6, 20, 2, 59, 59, 999000, tzinfo=timezone.utc)


def test_binance_ticker_garbage_close_time_is_a_clear_error(fake, recorded_source):
    d = body("binance_ticker_24hr.json") | {"closeTime": "1718852399999.25"}
    fake.fail_next(1, 200, body=d, path="/api/v3/ticker/24hr")
    with pytest.raises(BadPayloadError, match=r"binance: ticker closeTime '1718852399999.25' is not an integer"):
        recorded_source("binance").fetch_ticker("BTC/USDT")


def test_binance_exchange_info_recorded(fake, recorded_source):
    fake.fail_next(1, 200, body=body("binance_exchange_info.json"), path="/api/v3/exchangeInfo")
    # BREAK status is skipped; a non-ASCII asset name is not a symbol we can represent
    assert recorded_source("binance").list_symbols() == ["BTC/USDT", "ETH/BTC"]


# -- Coinbase Exchange -----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["coinbase_candles_1h.json", "coinbase_candles_1h_string_ints.json"])
def test_coinbase_candles_recorded(fake, recorded_source, name):
    fake.fail_next(1, 200, body=body(name), path="/products/BTC-USD/candles")
    df = recorded_source("coinbase").fetch_candles("BTC/USD", "1h", at(T_FIRST), at(T_FIRST + 3 * H))
    pd.testing.assert_frame_equal(df, COINBASE_BARS)


def test_exchange_clients_coinbase_ticker_reads_its_own_volume(fake, recorded_source):
    fake.fail_next(1, 200, body=body("coinbase_ticker.json"), path="/products/BTC-USD/ticker")
    fake.fail_next(1, 200, body=body("coinbase_stats.json") | {"volume": "1"}, path="/products/BTC-USD/stats")
    t = recorded_source("coinbase").fetch_ticker("BTC/USD")
    assert t.price == 65051.29 and t.volume_24h == 9182.61773398  # the ticker's own 24h volume
    assert t.change_24h_pct == pytest.approx((65051.29 / 66170.01 - 1) * 100)
    assert t.time == datetime(2024, 6, 20, 2, 59, 59, 518469, tzinfo=timezone.utc)


@pytest.mark.parametrize("stats", [(404, {"message": "NotFound"}), (200, {"message": "stats unavailable"}),
                                   (200, {"open": None, "volume": None})])
def test_exchange_clients_coinbase_ticker_without_stats_keeps_volume_and_change(fake, recorded_source, stats):
    """No usable /stats answer: the volume comes from the ticker, the change from the hourly candles."""
    status, payload = stats
    fake.fail_next(1, 200, body=body("coinbase_ticker.json"), path="/products/BTC-USD/ticker")
    fake.fail_next(4 if status != 200 else 1, status, body=payload, path="/products/BTC-USD/stats")
    day = [[T_FIRST + 3 * H - k * H, 64000.0, 66500.0, 66000.0 + k, 65000.0, 10.0] for k in range(1, 25)]
    fake.fail_next(1, 200, body=day, path="/products/BTC-USD/candles")
    t = recorded_source("coinbase").fetch_ticker("BTC/USD")
    assert t.volume_24h == 9182.61773398
    # the oldest bar of the last 24 h opened at 66024 (k = 24)
    assert t.change_24h_pct == pytest.approx((65051.29 / 66024.0 - 1) * 100)


# -- Kraken ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["kraken_ohlc_1h.json", "kraken_ohlc_1h_string_ints.json"])
def test_kraken_ohlc_recorded(fake, recorded_source, name):
    fake.fail_next(1, 200, body=body(name), path="/0/public/OHLC")
    df = recorded_source("kraken").fetch_candles("BTC/USD", "1h", at(T_FIRST), NOW)
    pd.testing.assert_frame_equal(df, KRAKEN_BARS)  # the forming 03:00 bar is dropped


def _kraken_page(first: int, n: int, last) -> dict:
    """A Kraken OHLC answer of ``n`` 1m rows from ``first`` in the recorded row shape (strings, count last)."""
    template = body("kraken_ohlc_1h.json")["result"]["XXBTZUSD"][0]
    rows = [[first + 60 * i, *template[1:]] for i in range(n)]
    return {"error": [], "result": {"XXBTZUSD": rows, "last": last}}


def test_exchange_clients_kraken_pagination_with_last_as_string(fake, source_factory):
    """A full 720-row answer that stops short of the range, with ``last`` as a numeric string, pages on."""
    last_committed = T_FIRST + 718 * 60  # row 720 is the forming bar and is dropped
    fake.fail_next(1, 200, body=_kraken_page(T_FIRST, 720, str(last_committed)), path="/0/public/OHLC")
    fake.fail_next(1, 200, body=_kraken_page(last_committed + 60, 282, str(T_FIRST + 999 * 60)), path="/0/public/OHLC")
    src = source_factory("kraken", clock=lambda: at(T_FIRST + 2000 * 60))
    df = src.fetch_candles("BTC/USD", "1m", at(T_FIRST), at(T_FIRST + 1000 * 60))
    pages = fake.requests_to("/0/public/OHLC")
    assert [p.params["since"] for p in pages] == [str(T_FIRST - 1), str(last_committed)]
    assert len(df) == 1000 and df.index[0] == pd.Timestamp(T_FIRST, unit="s", tz="UTC")
    assert df.index[-1] == pd.Timestamp(T_FIRST + 999 * 60, unit="s", tz="UTC")


def test_kraken_garbage_last_is_a_clear_error(fake, source_factory):
    fake.fail_next(1, 200, body=_kraken_page(T_FIRST, 720, "soon"), path="/0/public/OHLC")
    src = source_factory("kraken", clock=lambda: at(T_FIRST + 2000 * 60))
    with pytest.raises(BadPayloadError, match=r"kraken: OHLC 'last' 'soon' is not an integer"):
        src.fetch_candles("BTC/USD", "1m", at(T_FIRST), at(T_FIRST + 1000 * 60))


def test_kraken_ticker_recorded(fake, recorded_source):
    fake.fail_next(1, 200, body=body("kraken_ticker.json"), path="/0/public/Ticker")
    t = recorded_source("kraken").fetch_ticker("BTC/USD")
    assert (t.price, t.volume_24h) == (65052.1, 2291.50960126)
    assert t.change_24h_pct == pytest.approx((65052.1 / 65120.0 - 1) * 100)


def test_kraken_asset_pairs_recorded(fake, recorded_source):
    fake.fail_next(1, 200, body=body("kraken_asset_pairs.json"), path="/0/public/AssetPairs")
    assert recorded_source("kraken").list_symbols() == ["BTC/USD", "DOGE/USD", "ETH/BTC"]
