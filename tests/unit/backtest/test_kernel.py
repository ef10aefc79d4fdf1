"""The ruin rule of the engine's kernel (app.backtest._kernel): liquidation, stop, flat, never below zero."""
from __future__ import annotations

import math

import numpy as np
import pytest
from tests.unit.backtest.backtest_candles import make_candles

from app.backtest._kernel import liquidation_level
from app.backtest.config import BacktestConfig, Costs
from app.backtest.engine import run_backtest
from app.backtest.metrics import compute_metrics

NO_COSTS = Costs(maker_fee=0.0, taker_fee=0.0, slippage_bps=0.0)


def squeeze(highs_from=4):
    """A short squeeze: flat at 100, then the price runs to 250 and beyond."""
    opens = [100, 100, 100, 100, 120, 150, 180, 220, 260, 300]
    highs = [100, 100, 100, 101, 130, 170, 210, 250, 290, 320]
    lows = [100, 100, 99, 99, 118, 148, 178, 218, 258, 298]
    return make_candles(opens, highs, lows, closes=opens[1:] + [300])


def test_liquidation_level_formula():
    # short 10 units with 2000 in cash: equity 2000 - 10 p meets the requirement mm * 10 p
    assert liquidation_level(2000.0, -10.0, 0.0) == pytest.approx(200.0)
    assert liquidation_level(2000.0, -10.0, 0.25) == pytest.approx(2000 / (10 * 1.25))
    assert liquidation_level(-50.0, 1.0, 0.1) == pytest.approx(50.0)     # a long bought partly on credit
    assert liquidation_level(100.0, 1.0, 0.1) == -math.inf              # a long paid for in cash: never


def test_a_short_squeeze_liquidates_at_the_level_and_stops_flat():
    c = squeeze()
    r = run_backtest(c, [-1] * 10, BacktestConfig(initial_cash=1000.0, costs=NO_COSTS))
    # short 10 at the open of bar 1 (100): cash 2000, equity 2000 - 10 p reaches 0 at p = 200
    [t] = r.trades.itertuples()
    assert t.exit_reason == "liquidation" and t.exit_price == pytest.approx(200.0)
    assert t.exit_time == c.index[6]                     # bar 6 trades 178..210: the first to reach 200
    assert t.pnl == pytest.approx(-1000.0)
    assert (r.equity.iloc[6:] == 0.0).all() and r.final_equity == 0.0
    assert (r.equity >= 0).all()
    assert (r.positions.iloc[6:, 0] == 0).all()          # the run stopped: the standing signal is ignored
    assert r.ruin == {"time": c.index[6].isoformat(), "bar": 6, "shortfall": pytest.approx(0.0, abs=1e-9)}
    assert r.assumptions["ruin"]["happened"] and "liquidated" in r.assumptions["ruin"]["rule"]


def test_a_gap_through_the_level_liquidates_at_the_open_and_reports_the_shortfall():
    c = make_candles([100, 100, 100, 260, 270], highs=[100, 100, 101, 280, 280], lows=[100, 100, 99, 255, 260])
    r = run_backtest(c, [-1] * 5, BacktestConfig(initial_cash=1000.0, costs=NO_COSTS))
    [t] = r.trades.itertuples()
    assert t.exit_reason == "liquidation" and t.exit_price == pytest.approx(260.0)   # the open, beyond 200
    assert r.final_equity == 0.0 and (r.equity >= 0).all()
    assert r.ruin["shortfall"] == pytest.approx(10 * 260 - 2000)    # the loss beyond the account, not carried
    m = compute_metrics(r)
    assert m["total_return"] == -1.0 and m["annual_return"] == -1.0 and m["max_drawdown"] == -1.0
    assert all(not isinstance(v, float) or not math.isnan(v) or k in ("sharpe", "sortino", "calmar", "avg_win",
                                                                       "best_trade_pct", "win_rate", "omega",
                                                                       "profit_factor", "expectancy")
               for k, v in m.items())


def test_negative_equity_no_longer_shows_a_positive_sharpe():
    """The old engine let a short run to -239 % and bar returns on negative equity flipped sign."""
    idx_prices = np.r_[np.full(20, 100.0), np.linspace(100, 400, 60), np.linspace(400, 300, 40)]
    c = make_candles(idx_prices, highs=idx_prices * 1.001, lows=idx_prices * 0.999)
    r = run_backtest(c, [-1] * len(c), BacktestConfig(initial_cash=1000.0, costs=NO_COSTS))
    m = compute_metrics(r)
    assert r.ruin is not None and r.final_equity >= 0.0
    assert m["total_return"] >= -1.0 and not m["sharpe"] > 0


def test_maintenance_margin_liquidates_earlier():
    c = squeeze()
    r = run_backtest(c, [-1] * 10, BacktestConfig(initial_cash=1000.0, costs=NO_COSTS, maintenance_margin=0.25))
    [t] = r.trades.itertuples()
    level = 2000 / (10 * 1.25)                            # 160: equity 400 = 25 % of the 1600 notional
    assert t.exit_reason == "liquidation" and t.exit_price == pytest.approx(level)
    assert t.exit_time == c.index[5]
    assert r.final_equity == pytest.approx(2000 - 10 * level)


def test_liquidation_pays_the_taker_fee_and_slippage_and_never_goes_below_zero():
    c = squeeze()
    costs = Costs(maker_fee=0.0, taker_fee=0.001, slippage_bps=10)
    r = run_backtest(c, [-1] * 10, BacktestConfig(initial_cash=1000.0, costs=costs, maintenance_margin=0.05))
    t = r.trades.iloc[-1]
    assert t.exit_reason == "liquidation" and t.fees > 0 and t.slippage > 0
    assert r.final_equity >= 0.0 and (r.equity >= 0).all()


def test_a_stop_nearer_than_the_level_exits_first():
    c = squeeze()
    r = run_backtest(c, [-1] * 10, BacktestConfig(initial_cash=1000.0, costs=NO_COSTS, stop_loss=0.3))
    [t] = r.trades.itertuples()
    assert t.exit_reason == "stop_loss" and t.exit_price == pytest.approx(130.0) and r.ruin is None


def test_funding_that_drains_the_account_liquidates_at_the_open():
    c = make_candles([100.0] * 30, freq="8h", start="2024-01-01 04:00")   # a funding time at every bar but the first
    costs = Costs(maker_fee=0, taker_fee=0, slippage_bps=0, funding_rate=-0.1)   # shorts pay 10 % per interval
    r = run_backtest(c, [-1] * 30, BacktestConfig(initial_cash=1000.0, costs=costs))
    t = r.trades.iloc[0]
    assert t.exit_reason == "liquidation" and t.exit_price == 100.0
    assert r.final_equity == 0.0 and r.ruin["bar"] == 11      # 10 charges of 100 drain 1000
    assert (r.equity >= 0).all()


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_fast_path_and_portfolio_loop_agree_through_a_liquidation(seed):
    """Random walks with a strong upward drift and shorts at full size: the single-symbol
    fast path (skipping and scanning bars) and the general loop liquidate at the same bar and price."""
    rng = np.random.default_rng(seed)
    n = 3000
    close = 100 * np.exp(np.cumsum(rng.normal(0.004, 0.01, n)))
    opens = np.r_[100.0, close[:-1]]
    c = make_candles(opens, np.maximum(opens, close) * 1.004, np.minimum(opens, close) * 0.996, close, freq="1min")
    lengths = rng.integers(100, 600, 30)
    sig = np.repeat(rng.choice([-1, -1, 0, 1], len(lengths)), lengths)[:n].astype(np.int8)
    sig = np.pad(sig, (0, n - len(sig)), constant_values=-1)
    for config in (BacktestConfig(maintenance_margin=0.1),
                   BacktestConfig(maintenance_margin=0.1, trailing_stop=0.99, take_profit=0.6),
                   BacktestConfig(maintenance_margin=0.05, stop_loss=0.97, costs=Costs(funding_rate=-0.002))):
        single = run_backtest(c, sig, config)
        idle = make_candles([100.0] * n, freq="1min", start=str(c.index[0]))
        pair = run_backtest({"ASSET": c, "IDLE/USDT": idle},
                            {"ASSET": sig, "IDLE/USDT": np.zeros(n, dtype=np.int8)}, config)
        assert single.ruin is not None, "the drift should ruin the shorts"
        assert pair.ruin["bar"] == single.ruin["bar"]
        mine = pair.trades[pair.trades.symbol == "ASSET"].reset_index(drop=True)
        assert list(mine.exit_reason) == list(single.trades.exit_reason)
        assert single.trades.exit_reason.iloc[-1] == "liquidation"
        np.testing.assert_allclose(mine.exit_price, single.trades.exit_price, rtol=1e-12)
        np.testing.assert_allclose(pair.equity.to_numpy(), single.equity.to_numpy(), rtol=1e-12, atol=1e-9)
        assert (single.equity >= 0).all()


def test_two_shorts_are_liquidated_together_on_the_adverse_path():
    a = make_candles([100, 100, 100, 150, 150], highs=[100, 100, 100, 260, 150], lows=[100, 100, 100, 150, 150])
    b = make_candles([50, 50, 50, 75, 75], highs=[50, 50, 50, 130, 75], lows=[50, 50, 50, 75, 75])
    config = BacktestConfig(initial_cash=1000.0, costs=NO_COSTS, fraction=0.5)
    r = run_backtest({"A/USDT": a, "B/USDT": b}, {"A/USDT": [-1] * 5, "B/USDT": [-1] * 5}, config)
    t = r.trades.set_index("symbol")
    assert set(t.exit_reason) == {"liquidation"} and r.ruin["bar"] == 3
    # shorts: 5 A at 100, then B sized on equity 1000: 10 B at 50; cash 2000.
    # along the path p_A = 150 + 110 l, p_B = 75 + 55 l, equity 2000 - 5 p_A - 10 p_B = 500 - 1100 l hits 0 at 5/11
    assert t.loc["A/USDT", "exit_price"] == pytest.approx(200.0)
    assert t.loc["B/USDT", "exit_price"] == pytest.approx(100.0)
    assert r.final_equity == pytest.approx(0.0, abs=1e-9) and (r.equity >= -1e-9).all()


def test_an_unlevered_long_is_never_liquidated():
    c = make_candles([100, 100, 50, 10, 1, 0.5], lows=[100, 100, 40, 5, 0.5, 0.2])
    r = run_backtest(c, [1] * 6, BacktestConfig(initial_cash=1000.0, costs=NO_COSTS, maintenance_margin=0.5))
    assert r.ruin is None and r.final_equity > 0 and list(r.trades.exit_reason) == ["end_of_data"]
