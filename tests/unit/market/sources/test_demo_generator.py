"""The synthetic demo generator: shape, determinism, OHLC consistency and stylised facts.

Each stylised-fact check is a function applied both to the demo output (must
pass) and to a plain Gaussian random walk with the same shape (must fail), so
the thresholds really measure the property and not just "looks random".
"""
from __future__ import annotations

import time
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from app.market.sources import demo
from app.market.sources.demo import DEMO_EXCHANGE, EPOCH, generate_demo_candles, last_closed_minute
from app.marketdata import OHLCV

END = pd.Timestamp("2025-06-01 12:34:56", tz="UTC")
PAIR = ["BTC/USDT", "ETH/USDT"]


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return generate_demo_candles(PAIR, end=END, days=90, seed=7)


@pytest.fixture(scope="module")
def gaussian() -> dict[str, pd.DataFrame]:
    """Independent Gaussian random walks with constant volume: the null model."""
    rng = np.random.default_rng(0)
    idx = pd.date_range(END.floor("min") - pd.Timedelta(minutes=90 * 1440), periods=90 * 1440,
                        freq="min", name="time")
    out = {}
    for symbol, level in (("BTC/USDT", 80_000.0), ("ETH/USDT", 3_000.0)):
        close = level * np.exp(np.cumsum(rng.normal(0, 0.0007, len(idx))))
        vol = rng.uniform(5, 15, len(idx))
        out[symbol] = pd.DataFrame({"open": close, "high": close, "low": close, "close": close,
                                    "volume": vol}, index=idx)
    return out


def log_returns(df: pd.DataFrame) -> pd.Series:
    return np.log(df["close"]).diff().dropna()


# -- stylised facts, as predicates ------------------------------------------
def fat_tailed(df: pd.DataFrame) -> bool:
    return log_returns(df).kurt() > 3.0


def volatility_clusters(df: pd.DataFrame) -> bool:
    a = log_returns(df).abs()
    acf = np.array([a.autocorr(lag) for lag in range(1, 61)])
    return bool((acf > 0.05).all() and acf.mean() > 0.1)


def returns_uncorrelated(df: pd.DataFrame) -> bool:
    r = log_returns(df)
    return all(abs(r.autocorr(lag)) < 0.03 for lag in range(1, 11))


def correlated(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    return 0.6 <= log_returns(a).corr(log_returns(b)) <= 0.95


def intraday_volume_season(df: pd.DataFrame) -> bool:
    by_hour = df["volume"].groupby(df.index.hour).mean()
    return by_hour.max() / by_hour.min() > 1.5


def volume_follows_moves(df: pd.DataFrame) -> bool:
    r = log_returns(df).abs()
    return np.corrcoef(df["volume"].loc[r.index], r)[0, 1] > 0.2


# -- shape ---------------------------------------------------------------------
def test_ninety_days_of_canonical_one_minute_bars(frames):
    assert set(frames) == set(PAIR)
    for df in frames.values():
        assert list(df.columns) == OHLCV
        assert len(df) == 90 * 1440
        assert all(df[c].dtype == np.float64 for c in OHLCV)
        assert str(df.index.tz) == "UTC" and df.index.name == "time"
        assert (df.index == df.index.floor("min")).all()
        assert (np.diff(df.index.asi8) == np.diff(df.index.asi8)[0]).all()
        assert df.index[1] - df.index[0] == pd.Timedelta(minutes=1)
        assert df.index[-1] == pd.Timestamp("2025-06-01 12:33", tz="UTC")  # closed at 12:34
        assert not df.isna().any().any()
        assert np.isfinite(df.to_numpy()).all()


def test_default_end_is_the_last_closed_minute():
    before = pd.Timestamp.now(tz="UTC").floor("min") - pd.Timedelta(minutes=1)
    df = generate_demo_candles("BTC/USDT", days=1)["BTC/USDT"]
    after = pd.Timestamp.now(tz="UTC").floor("min") - pd.Timedelta(minutes=1)
    assert df.index[-1] in (before, after)
    assert last_closed_minute(END) == pd.Timestamp("2025-06-01 12:33", tz="UTC")


def test_ohlc_consistent_on_every_row(frames):
    for df in frames.values():
        assert (df["high"] >= df[["open", "close"]].max(axis=1)).all()
        assert (df["low"] <= df[["open", "close"]].min(axis=1)).all()
        assert (df["low"] > 0).all() and (df["volume"] > 0).all()
        assert (df["high"] > df["low"]).mean() > 0.99  # bars have a real range


def test_open_is_previous_close_plus_small_noise(frames):
    for df in frames.values():
        gap = (df["open"].iloc[1:].to_numpy() / df["close"].iloc[:-1].to_numpy()) - 1.0
        assert np.median(np.abs(gap)) < 1e-4
        assert (gap != 0).mean() > 0.3  # not a copy of the previous close


def test_realistic_price_levels():
    for seed in range(5):
        out = generate_demo_candles(PAIR, end=END, days=90, seed=seed)
        assert 50_000 <= out["BTC/USDT"]["close"].median() <= 120_000
        assert 1_500 <= out["ETH/USDT"]["close"].median() <= 5_000


def test_other_symbols_get_plausible_parameters():
    out = generate_demo_candles(["SOL/USDT", "ABC/USDT"], end=END, days=5)
    assert 30 <= out["SOL/USDT"]["close"].median() <= 500
    abc = out["ABC/USDT"]
    assert abc["close"].min() > 0 and fat_tailed(abc)
    assert (abc["high"] >= abc[["open", "close"]].max(axis=1)).all()


# -- determinism ---------------------------------------------------------------
def test_same_seed_and_end_give_identical_frames(frames):
    again = generate_demo_candles(PAIR, end=END, days=90, seed=7)
    for symbol in PAIR:
        pd.testing.assert_frame_equal(frames[symbol], again[symbol], check_exact=True)


def test_other_seed_gives_other_data(frames):
    other = generate_demo_candles(PAIR, end=END, days=90, seed=8)
    assert not np.allclose(frames["BTC/USDT"]["close"], other["BTC/USDT"]["close"])


def test_overlapping_windows_agree_bar_for_bar(frames):
    later = generate_demo_candles(["ETH/USDT", "BTC/USDT"], end=END + pd.Timedelta(hours=49, minutes=7),
                                  days=10, seed=7)
    for symbol in PAIR:
        common = frames[symbol].index.intersection(later[symbol].index)
        assert len(common) > 7 * 1440
        pd.testing.assert_frame_equal(frames[symbol].loc[common], later[symbol].loc[common],
                                      check_exact=True, check_freq=False)


def test_symbol_set_does_not_change_a_symbol_series(frames):
    alone = generate_demo_candles(["ETH/USDT"], end=END, days=90, seed=7)["ETH/USDT"]
    pd.testing.assert_frame_equal(alone, frames["ETH/USDT"], check_exact=True)


# -- stylised facts (demo passes, Gaussian random walk fails) --------------------
@pytest.mark.parametrize("symbol", PAIR)
def test_fat_tails(frames, gaussian, symbol):
    assert fat_tailed(frames[symbol])
    assert not fat_tailed(gaussian[symbol])


@pytest.mark.parametrize("symbol", PAIR)
def test_volatility_clustering_without_return_autocorrelation(frames, gaussian, symbol):
    assert volatility_clusters(frames[symbol])
    assert returns_uncorrelated(frames[symbol])
    assert not volatility_clusters(gaussian[symbol])


def test_btc_eth_correlation(frames, gaussian):
    assert correlated(frames["BTC/USDT"], frames["ETH/USDT"])
    assert not correlated(gaussian["BTC/USDT"], gaussian["ETH/USDT"])


@pytest.mark.parametrize("symbol", PAIR)
def test_intraday_volume_seasonality_peaks_in_us_eu_overlap(frames, gaussian, symbol):
    df = frames[symbol]
    assert intraday_volume_season(df)
    assert not intraday_volume_season(gaussian[symbol])
    by_hour = df["volume"].groupby(df.index.hour).mean()
    assert 12 <= by_hour.idxmax() <= 17


@pytest.mark.parametrize("symbol", PAIR)
def test_volume_rises_with_the_size_of_the_move(frames, gaussian, symbol):
    assert volume_follows_moves(frames[symbol])
    assert not volume_follows_moves(gaussian[symbol])


def test_weekend_volume_is_lower(frames):
    df = frames["BTC/USDT"]
    weekend = df.index.dayofweek >= 5
    assert df["volume"][weekend].mean() < 0.85 * df["volume"][~weekend].mean()


def test_trend_and_range_regimes_persist():
    regime, v, _ = demo._market_daily(7, 3000)
    assert set(np.unique(regime)) == {0, 1, 2}
    changes = np.flatnonzero(np.diff(regime)) + 1
    runs = np.diff(np.concatenate(([0], changes, [len(regime)])))
    assert 7 <= runs.mean() <= 40  # regimes last weeks, not days or years
    # bear regimes are the most volatile, ranges the calmest
    assert v[regime == 2].mean() > v[regime == 1].mean() > v[regime == 0].mean()


# -- speed and input checking ---------------------------------------------------
def test_ninety_days_of_two_symbols_in_well_under_two_seconds():
    generate_demo_candles(PAIR, end=END, days=90)  # warm caches/imports
    started = time.perf_counter()
    out = generate_demo_candles(PAIR, end=END + pd.Timedelta(days=3), days=90)
    elapsed = time.perf_counter() - started
    assert sum(len(df) for df in out.values()) == 2 * 90 * 1440
    assert elapsed < 1.0, f"took {elapsed:.2f}s"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"end": datetime(2025, 6, 1)}, "timezone-aware"),
        ({"end": END, "days": 0}, "days"),
        ({"end": END, "seed": -1}, "seed"),
        ({"end": EPOCH + pd.Timedelta(days=10)}, "demo data starts"),
        ({"end": EPOCH + pd.Timedelta(days=50_000)}, "demo data ends"),
    ],
)
def test_bad_input_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        generate_demo_candles(PAIR, **kwargs)


def test_bad_symbols_are_refused():
    with pytest.raises(ValueError, match="BASE/QUOTE"):
        generate_demo_candles(["BTCUSDT"], end=END)
    with pytest.raises(ValueError, match="at least one"):
        generate_demo_candles([], end=END)


def test_end_accepts_any_utc_offset():
    a = generate_demo_candles("BTC/USDT", end=END, days=1)["BTC/USDT"]
    b = generate_demo_candles("BTC/USDT", end=END.tz_convert("Asia/Tokyo").to_pydatetime(), days=1)["BTC/USDT"]
    pd.testing.assert_frame_equal(a, b)
    assert str(b.index.tz) == "UTC"


def test_demo_exchange_name():
    assert DEMO_EXCHANGE == "demo"
