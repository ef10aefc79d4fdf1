"""Engine: hand-computed trades and equity on tiny series."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from tests.unit.backtest.backtest_candles import make_candles, random_candles

from app.backtest.config import BacktestConfig, Costs
from app.backtest.engine import TRADE_COLUMNS, prepare, run_backtest

FEE = 0.001
NO_COSTS = Costs(maker_fee=0.0, taker_fee=0.0, slippage_bps=0.0)


def cfg(**kw) -> BacktestConfig:
    kw.setdefault("costs", Costs(maker_fee=0.0005, taker_fee=FEE, slippage_bps=0.0))
    kw.setdefault("initial_cash", 1000.0)
    return BacktestConfig(**kw)


def test_fill_at_next_open_with_taker_fees():
    c = make_candles([100, 110, 120, 130], closes=[105, 115, 125, 135])
    r = run_backtest(c, [1, 0, 0, 0], cfg())
    qty = 1000 / (110 * (1 + FEE))             # fee-inclusive: spends exactly the equity
    assert len(r.trades) == 1
    t = r.trades.iloc[0]
    assert t.entry_time == c.index[1] and t.entry_price == pytest.approx(110)   # not the signal bar's close (105)
    assert t.exit_time == c.index[2] and t.exit_price == pytest.approx(120)
    assert t.qty == pytest.approx(qty)
    fees = qty * 110 * FEE + qty * 120 * FEE
    assert t.fees == pytest.approx(fees)
    assert t.pnl == pytest.approx(qty * 10 - fees)
    assert t.exit_reason == "signal" and t.side == "long"
    expected_equity = [1000, qty * 115, qty * 120 * (1 - FEE), qty * 120 * (1 - FEE)]
    np.testing.assert_allclose(r.equity.to_numpy(), expected_equity)
    assert r.final_equity == pytest.approx(1000 + t.pnl)


def test_slippage_moves_both_fills_against_the_trader():
    c = make_candles([100, 110, 120, 130])
    r = run_backtest(c, [1, 0, 0, 0], cfg(costs=Costs(taker_fee=0.0, maker_fee=0.0, slippage_bps=10)))
    t = r.trades.iloc[0]
    assert t.entry_price == pytest.approx(110 * 1.001)
    assert t.exit_price == pytest.approx(120 * 0.999)
    qty = 1000 / (110 * 1.001)
    assert t.slippage == pytest.approx(qty * 110 * 0.001 + qty * 120 * 0.001)
    assert t.pnl == pytest.approx(qty * (120 * 0.999 - 110 * 1.001))


def test_short_pnl():
    c = make_candles([100, 100, 90, 95], closes=[100, 95, 92, 95])
    r = run_backtest(c, [-1, 0, 0, 0], cfg())
    t = r.trades.iloc[0]
    qty = 1000 / (100 * (1 + FEE))
    assert t.side == "short" and t.qty == pytest.approx(qty)
    fees = qty * 100 * FEE + qty * 90 * FEE
    assert t.pnl == pytest.approx(qty * (100 - 90) - fees)
    # equity while short: cash (1000 + proceeds - fee) minus the position's value
    assert r.equity.iloc[1] == pytest.approx(1000 + qty * 100 - qty * 100 * FEE - qty * 95)
    assert r.final_equity == pytest.approx(1000 + t.pnl)


def test_reversal_closes_then_opens_at_the_same_open():
    c = make_candles([100, 100, 110, 105, 100])
    r = run_backtest(c, [1, -1, -1, 0, 0], cfg(costs=NO_COSTS))
    assert list(r.trades.side) == ["long", "short"]
    assert r.trades.exit_time.iloc[0] == r.trades.entry_time.iloc[1] == c.index[2]
    assert r.trades.pnl.iloc[0] == pytest.approx(1000 / 100 * 10)       # 10 units, +10 each
    assert r.trades.qty.iloc[1] == pytest.approx(1100 / 110)              # resized on new equity
    assert r.final_equity == pytest.approx(1100 + 10 * (110 - 100))   # short covered at bar 4 open


def test_stop_loss_inside_a_bar_fills_at_the_stop_and_does_not_reenter():
    # entry at 100; stop 95; bar 2 trades down to 94 without opening below the stop
    c = make_candles([100, 100, 98, 97, 99], highs=[101, 102, 99, 99, 100],
                     lows=[99, 96, 94, 96, 98], closes=[100, 98, 97, 98, 99])
    r = run_backtest(c, [1, 1, 1, 1, 1], cfg(stop_loss=0.05, close_at_end=False))
    assert len(r.trades) == 1
    t = r.trades.iloc[0]
    assert t.exit_reason == "stop_loss" and t.exit_time == c.index[2]
    assert t.exit_price == pytest.approx(95)
    qty = 1000 / (100 * (1 + FEE))
    assert t.pnl == pytest.approx(qty * -5 - qty * 100 * FEE - qty * 95 * FEE)
    assert (r.positions.iloc[2:, 0] == 0).all()   # the standing signal does not re-enter


def test_reentry_after_stop_needs_a_signal_change():
    c = make_candles([100, 100, 98, 97, 99, 99], highs=[101, 102, 99, 99, 100, 100],
                     lows=[99, 96, 94, 96, 98, 98])
    r = run_backtest(c, [1, 1, 0, 1, 1, 1], cfg(stop_loss=0.05, close_at_end=False))
    assert list(r.trades.exit_reason) == ["stop_loss", "open"]
    assert r.trades.entry_time.iloc[1] == c.index[4]


def test_gap_through_the_stop_fills_at_the_open():
    c = make_candles([100, 100, 90, 91], highs=[100, 101, 92, 92], lows=[100, 99, 88, 90])
    r = run_backtest(c, [1, 1, 1, 1], cfg(stop_loss=0.05, costs=NO_COSTS))
    t = r.trades.iloc[0]
    assert t.exit_reason == "stop_loss" and t.exit_price == pytest.approx(90)   # not 95


def test_stop_and_take_profit_in_one_bar_assume_the_stop():
    c = make_candles([100, 100, 100, 100], highs=[100, 101, 106, 100], lows=[100, 99, 94, 100])
    r = run_backtest(c, [1, 1, 1, 1], cfg(stop_loss=0.05, take_profit=0.05))
    t = r.trades.iloc[0]
    assert t.exit_reason == "stop_loss" and t.exit_price == pytest.approx(95)
    assert t.exit_time == c.index[2]


def test_take_profit_is_a_limit_order_with_maker_fee():
    c = make_candles([100, 100, 103, 100], highs=[100, 101, 107, 100], lows=[100, 99, 102, 100])
    r = run_backtest(c, [1, 1, 1, 1], cfg(stop_loss=0.05, take_profit=0.05,
                                          costs=Costs(maker_fee=0.0005, taker_fee=FEE, slippage_bps=20)))
    t = r.trades.iloc[0]
    assert t.exit_reason == "take_profit" and t.exit_price == pytest.approx(105 * 1.002)  # entry slipped
    qty = t.qty
    assert t.fees == pytest.approx(qty * 100 * 1.002 * FEE + qty * t.exit_price * 0.0005)


def test_short_stop_is_above_entry():
    c = make_candles([100, 100, 103, 100], highs=[100, 101, 106, 100], lows=[100, 99, 101, 100])
    r = run_backtest(c, [-1, -1, -1, -1], cfg(stop_loss=0.05, costs=NO_COSTS))
    t = r.trades.iloc[0]
    assert t.side == "short" and t.exit_reason == "stop_loss" and t.exit_price == pytest.approx(105)
    assert t.pnl == pytest.approx(-10 * 5)


def test_trailing_stop_uses_the_previous_bars_extreme():
    # entry 100; entry bar reaches 120 -> next bar's trail is 108; the entry bar itself trails at 90
    c = make_candles([100, 100, 118, 115], highs=[100, 120, 119, 116], lows=[100, 95, 107, 110])
    r = run_backtest(c, [1, 1, 1, 1], cfg(trailing_stop=0.1, costs=NO_COSTS))
    t = r.trades.iloc[0]
    assert t.exit_reason == "trailing_stop" and t.exit_time == c.index[2]
    assert t.exit_price == pytest.approx(108)


@pytest.mark.parametrize("sizing, expected_qty", [
    ("fixed_fraction", 0.5 * 1000 / (100 * (1 + FEE))),
    ("fixed_cash", 200 / (100 * (1 + FEE))),
])
def test_sizing_modes(sizing, expected_qty):
    c = make_candles([100, 100, 100, 100])
    r = run_backtest(c, [1, 1, 1, 1], cfg(sizing=sizing, fraction=0.5, cash_per_trade=200))
    assert r.trades.qty.iloc[0] == pytest.approx(expected_qty)


def test_vol_target_sizing_uses_returns_up_to_the_signal_bar():
    c = random_candles(60, seed=5)
    config = cfg(sizing="vol_target", target_vol=0.3, vol_lookback=10, fraction=1.0)
    sig = np.zeros(60)
    sig[30:] = 1
    r = run_backtest(c, sig, config)
    t = r.trades.iloc[0]
    assert t.entry_time == c.index[31]
    logret = np.diff(np.log(c.close.to_numpy()[:31]))[-10:]        # returns up to the signal bar 30
    realised = np.std(logret, ddof=1) * math.sqrt(365 * 24)
    weight = min(1.0, 0.3 / realised)
    assert t.qty == pytest.approx(weight * 1000 / (c.open.iloc[31] * (1 + FEE)))


def test_qty_step_floors_to_lot_size():
    c = make_candles([100, 100, 100])
    r = run_backtest(c, [1, 1, 1], cfg(qty_step=0.5))
    assert r.trades.qty.iloc[0] == pytest.approx(9.5)   # 9.99 units affordable


def test_funding_is_paid_by_longs_at_each_funding_time():
    c = make_candles([100] * 12, start="2024-01-01 04:00")      # 04:00 .. 15:00, one funding time at 08:00
    r = run_backtest(c, [1] * 12, cfg(costs=Costs(taker_fee=0, maker_fee=0, slippage_bps=0, funding_rate=0.001)))
    t = r.trades.iloc[0]
    assert t.funding == pytest.approx(10 * 100 * 0.001)
    assert r.final_equity == pytest.approx(1000 - 1.0)
    short = run_backtest(c, [-1] * 12, cfg(costs=Costs(taker_fee=0, maker_fee=0, slippage_bps=0, funding_rate=0.001)))
    assert short.final_equity == pytest.approx(1000 + 1.0)


def test_range_slippage_scales_with_the_previous_bar():
    c = make_candles([100, 100, 100, 100], highs=[110, 100, 100, 100], lows=[90, 100, 100, 100])
    costs = Costs(taker_fee=0, maker_fee=0, slippage_bps=1, slippage_model="range", range_factor=0.1,
                  max_slippage_bps=1000)
    r = run_backtest(c, [1, 0, 0, 0], cfg(costs=costs))
    assert r.trades.entry_price.iloc[0] == pytest.approx(100 * (1 + 0.0001 + 0.1 * 0.2))
    assert r.trades.exit_price.iloc[0] == pytest.approx(100 * (1 - 0.0001))
    capped = run_backtest(c, [1, 0, 0, 0], cfg(costs=Costs(slippage_model="range", max_slippage_bps=50)))
    assert capped.trades.entry_price.iloc[0] == pytest.approx(100 * 1.005)


def test_long_only_config_ignores_short_targets():
    c = make_candles([100, 100, 90, 95])
    r = run_backtest(c, [-1, -1, -1, -1], cfg(allow_short=False))
    assert r.trades.empty and (r.equity == 1000).all()


def test_portfolio_shares_cash():
    a = make_candles([100, 100, 110, 110])
    b = make_candles([50, 50, 50, 55])
    r = run_backtest({"BTC/USDT": a, "ETH/USDT": b}, {"BTC/USDT": [1, 1, 0, 0], "ETH/USDT": [1, 1, 1, 1]},
                     cfg(fraction=0.75, costs=NO_COSTS, close_at_end=False))
    t = r.trades.set_index("symbol")
    assert t.loc["BTC/USDT", "qty"] == pytest.approx(7.5)           # 75 % of 1000 at 100
    assert t.loc["ETH/USDT", "qty"] == pytest.approx(250 / 50)      # capped by the remaining cash
    assert t.loc["BTC/USDT", "pnl"] == pytest.approx(75)
    assert r.final_equity == pytest.approx(1000 + 75 + 5 * 5)
    assert list(r.positions.columns) == ["BTC/USDT", "ETH/USDT"]


def test_portfolio_aligns_on_common_timestamps():
    a = make_candles([100] * 6)
    b = make_candles([50] * 4, start="2024-01-01 02:00")
    data = prepare({"A/USDT": a, "B/USDT": b})
    assert data.n_bars == 4 and data.index[0] == b.index[0]


def test_equity_reconciles_with_trades(candles):
    sig = np.sign(np.sin(np.arange(len(candles)) / 3.0))
    r = run_backtest(candles, sig, BacktestConfig(stop_loss=0.03, take_profit=0.05, trailing_stop=0.04,
                                                  costs=Costs(funding_rate=0.0001)))
    assert set(r.trades.exit_reason) >= {"signal", "stop_loss", "take_profit", "trailing_stop"}
    assert r.final_equity == pytest.approx(10_000 + r.trades.pnl.sum())
    assert (r.trades.entry_time <= r.trades.exit_time).all()
    assert r.trades.funding.abs().sum() > 0


def test_reproducible_and_hash_stamped(candles):
    sig = np.sign(np.sin(np.arange(len(candles)) / 5.0))
    config = BacktestConfig(stop_loss=0.02)
    r1, r2 = run_backtest(candles, sig, config), run_backtest(candles.copy(), sig, config)
    assert r1.data_hash == r2.data_hash and r1.data_hash.startswith("xxh3_128:") and len(r1.data_hash) == 41
    pd.testing.assert_series_equal(r1.equity, r2.equity)
    pd.testing.assert_frame_equal(r1.trades, r2.trades)
    assert r1.config == r2.config and r1.config["costs"]["taker_fee"] == 0.0004
    changed = candles.copy()
    changed.iloc[10, 3] *= 1.0001
    assert prepare(changed).data_hash != r1.data_hash
    assert BacktestConfig.from_dict(r1.config | {"timeframe": None}) == config


def test_trades_frame_is_built_once_on_first_access_and_survives_pickling(candles):
    import pickle

    sig = np.sign(np.sin(np.arange(len(candles)) / 5.0))
    result = run_backtest(candles, sig, BacktestConfig(stop_loss=0.02))
    assert not isinstance(result.trades_data, pd.DataFrame)        # records only, until asked
    copy = pickle.loads(pickle.dumps(result))                       # e.g. an RQ job's return value
    first = result.trades
    assert result.trades is first and isinstance(result.trades_data, pd.DataFrame)
    assert list(first.columns) == TRADE_COLUMNS and len(first) > 5
    pd.testing.assert_frame_equal(copy.trades, first)
    # equity reconciles with the frame built later
    assert result.final_equity == pytest.approx(result.initial_cash + first.pnl.sum(), rel=1e-9)


def test_costs_on_by_default():
    c = make_candles([100, 100, 100, 100])
    r = run_backtest(c, [1, 0, 0, 0])
    assert r.trades.fees.iloc[0] > 0 and r.trades.slippage.iloc[0] > 0
    assert r.config["costs"]["slippage_bps"] == 2.0 and r.timeframe == "1h"
    assert list(r.trades.columns) == TRADE_COLUMNS
    assert str(r.trades.exit_reason.dtype) == "category" and r.trades.side.iloc[0] == "long"


@pytest.mark.parametrize("signal, message", [
    ([1, 2, 0, 0], "must be -1, 0 or"),
    ([1, 0], "does not match"),
])
def test_bad_signal_is_rejected(signal, message):
    with pytest.raises(ValueError, match=message):
        run_backtest(make_candles([100, 100, 100, 100]), signal)


def test_bad_candles_are_rejected():
    c = make_candles([100, 100, 100])
    with pytest.raises(ValueError, match="UTC"):
        run_backtest(c.tz_localize(None), [0, 0, 0])
    with pytest.raises(ValueError, match="NaN"):
        run_backtest(c.assign(close=[1.0, np.nan, 1.0]), [0, 0, 0])
    with pytest.raises(ValueError, match="missing column"):
        run_backtest(c.drop(columns="low"), [0, 0, 0])


@pytest.mark.parametrize("kw", [{"taker_fee": -1}, {"slippage_model": "magic"}, {"funding_interval_hours": 0}])
def test_bad_costs_are_rejected(kw):
    with pytest.raises(ValueError):
        Costs(**kw)


@pytest.mark.parametrize("kw", [{"sizing": "martingale"}, {"fraction": 2.0}, {"stop_loss": 0}, {"timeframe": "2m"}])
def test_bad_config_is_rejected(kw):
    with pytest.raises(ValueError):
        BacktestConfig(**kw)


def test_funding_counts_every_funding_time_inside_a_bar():
    c = make_candles([100] * 4, freq="1D")                      # 3 funding times (00, 08, 16 h) per day
    costs = Costs(taker_fee=0, maker_fee=0, slippage_bps=0, funding_rate=0.001)
    r = run_backtest(c, [1, 1, 1, 1], cfg(costs=costs, close_at_end=False))
    assert r.trades.funding.iloc[0] == pytest.approx(2 * 3 * 10 * 100 * 0.001)   # bars 2 and 3


def test_single_symbol_fast_path_matches_the_portfolio_loop(candles):
    """One symbol takes a fast path for quiet bars; a portfolio with an idle second
    symbol goes through the general loop and must give the same trades and equity."""
    sig = np.sign(np.sin(np.arange(len(candles)) / 5.0)).astype(np.int8)
    config = BacktestConfig(stop_loss=0.03, take_profit=0.05, trailing_stop=0.04, sizing="vol_target",
                            vol_lookback=12, costs=Costs(funding_rate=0.0002, slippage_bps=3))
    single = run_backtest(candles, sig, config)
    idle = make_candles([100.0] * len(candles), start=str(candles.index[0]))
    pair = run_backtest({"ASSET": candles, "IDLE/USDT": idle},
                        {"ASSET": sig, "IDLE/USDT": np.zeros(len(candles), dtype=np.int8)}, config)
    assert set(single.trades.exit_reason) >= {"signal", "stop_loss", "take_profit", "trailing_stop"}
    mine = pair.trades[pair.trades.symbol == "ASSET"].reset_index(drop=True)
    np.testing.assert_allclose(mine.pnl, single.trades.pnl, rtol=1e-12)
    assert list(mine.exit_reason) == list(single.trades.exit_reason)
    np.testing.assert_allclose(pair.equity.to_numpy(), single.equity.to_numpy(), rtol=1e-12)


FAST_PATH_CONFIGS = {
    "all stops, vol sizing, funding": dict(stop_loss=0.02, take_profit=0.04, trailing_stop=0.015, sizing="vol_target",
                                           vol_lookback=30, costs=Costs(funding_rate=0.0003, slippage_bps=3)),
    "trailing only, range slippage": dict(trailing_stop=0.01, costs=Costs(slippage_model="range", slippage_bps=2)),
    "stop and take-profit, fixed cash": dict(stop_loss=0.01, take_profit=0.01, sizing="fixed_cash",
                                             cash_per_trade=5_000.0, close_at_end=False),
    "no stops, long only, funding": dict(allow_short=False, costs=Costs(funding_rate=0.001)),
    "take-profit only, volume slippage": dict(take_profit=0.006, costs=Costs(slippage_model="volume")),
}


@pytest.mark.parametrize("name", FAST_PATH_CONFIGS)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fast_path_matches_the_general_loop_on_random_data(name, seed):
    """The single-symbol path jumps over quiet bars, scans highs/lows four bars at a time
    and fills equity from state changes afterwards; the portfolio loop does none of that.
    Target runs of 1 to 120 bars hit both the unrolled scan and its tail."""
    rng = np.random.default_rng(seed)
    candles = random_candles(n=4000, seed=seed, freq="1min")
    lengths = rng.integers(1, 120, 200)
    sig = np.repeat(rng.integers(-1, 2, len(lengths)), lengths)[:len(candles)].astype(np.int8)
    sig = np.pad(sig, (0, len(candles) - len(sig)))
    config = BacktestConfig(**FAST_PATH_CONFIGS[name])
    single = run_backtest(candles, sig, config)
    idle = make_candles([100.0] * len(candles), freq="1min", start=str(candles.index[0]))
    pair = run_backtest({"ASSET": candles, "IDLE/USDT": idle},
                        {"ASSET": sig, "IDLE/USDT": np.zeros(len(candles), dtype=np.int8)}, config)
    assert len(single.trades) > 10
    mine = pair.trades[pair.trades.symbol == "ASSET"].reset_index(drop=True)
    assert list(mine.exit_reason) == list(single.trades.exit_reason)
    assert list(mine.entry_time) == list(single.trades.entry_time)
    assert list(mine.exit_time) == list(single.trades.exit_time)
    np.testing.assert_allclose(mine.pnl, single.trades.pnl, rtol=1e-12)
    np.testing.assert_allclose(pair.equity.to_numpy(), single.equity.to_numpy(), rtol=1e-12)
    assert (pair.positions["ASSET"].to_numpy() == single.positions["ASSET"].to_numpy()).all()


def test_warm_up_compiles_the_kernels_before_the_first_real_run():
    """In a fresh process the engine's kernel has no compiled signature until warm_up runs it."""
    import subprocess
    import sys
    from pathlib import Path

    probe = ("from app.backtest import _kernel\n"
             "before = len(_kernel.simulate.signatures) + len(_kernel.funding_events.signatures)\n"
             "from app.backtest.engine import warm_up\n"
             "seconds = warm_up()\n"
             "print(before, len(_kernel.simulate.signatures), len(_kernel.funding_events.signatures), seconds > 0)")
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=root, timeout=300,
                         env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["0", "1", "1", "True"]


def test_single_frame_takes_its_symbol_name_from_attrs():
    from app.backtest.engine import prepare

    frame = random_candles(50)
    assert prepare(frame).symbols == ("ASSET",)
    frame.attrs["symbol"] = "ETH/USDT"
    assert prepare(frame).symbols == ("ETH/USDT",)
    assert prepare(frame.iloc[10:]).symbols == ("ETH/USDT",)  # slicing keeps attrs
    assert prepare(frame, symbol="BTC/USDT").symbols == ("BTC/USDT",)


def test_data_hash_is_xxh3_128_of_times_symbol_and_columns_also_on_its_thread():
    import xxhash

    from app.backtest import engine

    for n in (50, 300_000):              # inline, and on the background thread (over 4 MB)
        frame = random_candles(n, seed=2, freq="1min")
        frame.attrs["symbol"] = "BTC/USDT"
        h = xxhash.xxh3_128()
        h.update(frame.index.as_unit("ns").asi8.tobytes())
        h.update(b"BTC/USDT")
        for c in ("open", "high", "low", "close", "volume"):
            h.update(frame[c].to_numpy().tobytes())
        data = prepare(frame)
        assert isinstance(data.digest, engine._PendingDigest) == (n > 1000)
        assert data.data_hash == "xxh3_128:" + h.hexdigest()
        assert run_backtest(data, np.zeros(n)).data_hash == data.data_hash


def test_prepare_names_the_bad_row_and_trusted_skips_the_checks():
    c = make_candles([100, 101, 102, 103])
    with pytest.raises(ValueError, match=r"prices must be positive \(row 2"):
        prepare(c.assign(low=[99.0, 100.0, -1.0, 102.0]))
    with pytest.raises(ValueError, match=r"NaN or infinite values \(row 1"):
        prepare(c.assign(high=[101.0, np.inf, 103.0, 104.0]))
    shuffled = c.iloc[[0, 2, 1, 3]]
    with pytest.raises(ValueError, match=r"strictly increasing \(row 2"):
        prepare(shuffled)
    assert prepare(shuffled, trusted=True).n_bars == 4          # the caller vouched for it
    # a float64 frame is not copied: the arrays are views of its columns
    data = prepare(c)
    assert np.shares_memory(data.close, c["close"].to_numpy())


def test_prepared_data_pickles_with_its_digest():
    import pickle

    data = prepare(random_candles(300_000, seed=4, freq="1min"))
    copy = pickle.loads(pickle.dumps(data))
    assert copy.data_hash == data.data_hash and np.array_equal(copy.close, data.close)
