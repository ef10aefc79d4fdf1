"""Metrics (app.backtest.metrics) against independent formulas: gaps, annualisation, conventions,
short windows, ruin, and a trade still open at the end."""
from __future__ import annotations

import json
import math
import statistics

import numpy as np
import pandas as pd
import pytest
from tests.unit.backtest.backtest_candles import make_candles, random_candles

from app.backtest.config import BacktestConfig, Costs
from app.backtest.engine import run_backtest
from app.backtest.metrics import (MIN_ANNUALISE_DAYS, compute_metrics, conventions, equity_metrics,
                                  metrics_report, trade_metrics)

DAY = 86400
NO_COSTS = Costs(maker_fee=0.0, taker_fee=0.0, slippage_bps=0.0)


def weekday_equity(years=8.5, seed=1):
    """Daily equity on weekdays only (markets that close): ~8.5 calendar years in ~6.1 'bar years'."""
    idx = pd.bdate_range("2015-01-01", periods=int(years * 261), tz="UTC", name="time")
    rng = np.random.default_rng(seed)
    values = 100 * np.exp(np.cumsum(rng.normal(0.0004, 0.01, len(idx))))
    return pd.Series(values, index=idx)


def simple_returns(values, initial):
    v = [initial, *values]
    return [v[i] / v[i - 1] - 1 for i in range(1, len(v))]


def test_cagr_uses_elapsed_calendar_time_on_a_series_with_weekends():
    eq = weekday_equity()
    m = equity_metrics(eq, 100.0, DAY)
    days = (eq.index[-1] - eq.index[0]).days + 1            # first open to last bar's close
    years = days / 365
    assert 8.4 < years < 8.6 and len(eq) / 365 < 6.2        # counting bars would say ~6.1 years
    assert m["annual_return"] == pytest.approx((eq.iloc[-1] / 100) ** (1 / years) - 1, rel=1e-12)
    assert m["calmar"] == pytest.approx(m["annual_return"] / abs(m["max_drawdown"]), rel=1e-12)


def test_periods_per_year_setting_for_markets_that_close():
    eq = weekday_equity(3)
    rets = simple_returns(eq.tolist(), 100.0)
    crypto = equity_metrics(eq, 100.0, DAY)
    stocks = equity_metrics(eq, 100.0, DAY, periods_per_year=252)
    mean, sd = statistics.fmean(rets), statistics.stdev(rets)
    assert stocks["sharpe"] == pytest.approx(mean / sd * math.sqrt(252), rel=1e-9)
    assert stocks["volatility"] == pytest.approx(sd * math.sqrt(252), rel=1e-9)
    assert crypto["sharpe"] == pytest.approx(mean / sd * math.sqrt(365), rel=1e-9)
    assert stocks["annual_return"] == crypto["annual_return"]      # CAGR is calendar time either way


def test_geometric_sharpe_is_cagr_over_annualised_volatility():
    eq = weekday_equity(2, seed=4)
    rets = np.array(simple_returns(eq.tolist(), 100.0))
    m = equity_metrics(eq, 100.0, DAY, periods_per_year=252, sharpe="geometric")
    years = ((eq.index[-1] - eq.index[0]).days + 1) / 365
    cagr = float(np.prod(1 + rets)) ** (1 / years) - 1
    vol = float(np.std(rets, ddof=1)) * math.sqrt(252)
    downside = math.sqrt(float(np.mean(np.minimum(rets, 0) ** 2))) * math.sqrt(252)
    assert m["sharpe"] == pytest.approx(cagr / vol, rel=1e-9)
    assert m["sortino"] == pytest.approx(cagr / downside, rel=1e-9)
    arithmetic = equity_metrics(eq, 100.0, DAY, periods_per_year=252)
    assert arithmetic["sharpe"] != pytest.approx(m["sharpe"], rel=1e-3)   # a real difference between the two


def test_the_result_states_its_conventions():
    candles = random_candles(300, seed=2)
    r = run_backtest(candles, np.sign(np.sin(np.arange(300) / 7)), BacktestConfig(periods_per_year=2016.0,
                                                                                  sharpe="geometric"))
    c = conventions(r)
    assert c["sharpe_convention"] == "geometric" and c["periods_per_year"] == 2016.0
    assert c["sharpe"].startswith("CAGR / (std(r, ddof=1)")
    assert "calendar time" in c["cagr"] and c["years"] == pytest.approx(300 / (365 * 24))
    default = conventions(run_backtest(candles, np.zeros(300)))
    assert default["periods_per_year"] == 365 * 24 and "empyrical" in default["sharpe"]
    assert r.assumptions["annualisation"]["periods_per_year"] == 2016.0


def test_finding_10_short_windows_are_too_short_to_annualise_never_an_error():
    """1m bars, a 5-bar window: annualising used to raise OverflowError."""
    c = random_candles(5, seed=3, freq="1min")
    r = run_backtest(c, [1, 1, 1, 1, 1], BacktestConfig(costs=NO_COSTS))
    report = metrics_report(r)
    assert math.isnan(report.values["annual_return"]) and math.isnan(report.values["calmar"])
    assert report.notes["annual_return"].startswith("too short to annualise")
    assert math.isfinite(report.values["total_return"]) and math.isfinite(report.values["sharpe"])
    doc = json.dumps(report.to_json(), allow_nan=False)         # nothing non-finite leaks into JSON
    assert json.loads(doc)["values"]["annual_return"] is None
    one = metrics_report(run_backtest(make_candles([100, 101], freq="1min"), [0, 0]))
    assert "volatility" not in one.notes or one.notes["volatility"] == "needs at least 2 bar returns"
    json.dumps(one.to_json(), allow_nan=False)
    # a day is long enough, and a huge short-span gain stays finite or is explained
    day = random_candles(1440, seed=4, freq="1min")
    assert math.isfinite(compute_metrics(run_backtest(day, np.ones(1440)))["annual_return"])
    assert MIN_ANNUALISE_DAYS == 1.0


def test_metrics_on_a_ruined_account_never_divide_by_non_positive_equity():
    opens = [100, 100, 100, 130, 170, 210, 250, 250]
    c = make_candles(opens, highs=[100, 100, 101, 140, 180, 220, 260, 260],
                     lows=[100, 100, 99, 128, 168, 208, 248, 248], freq="1D")
    r = run_backtest(c, [-1] * 8, BacktestConfig(initial_cash=1000.0, costs=NO_COSTS))
    assert r.ruin is not None and r.final_equity == 0.0
    m = compute_metrics(r)
    eq = [1000.0, *r.equity.tolist()]
    rets = [eq[i] / eq[i - 1] - 1 if eq[i - 1] > 0 else 0.0 for i in range(1, len(eq))]
    assert min(rets) == -1.0 and all(r_ >= -1.0 for r_ in rets)
    assert m["total_return"] == -1.0 and m["max_drawdown"] == -1.0 and m["annual_return"] == -1.0
    assert m["sharpe"] == pytest.approx(statistics.fmean(rets) / statistics.stdev(rets) * math.sqrt(365))
    # it opened at 210, beyond the level of 200: liquidated at the open, the 100 beyond the account is the shortfall
    assert m["sharpe"] < 0 and m["n_trades"] == 1 and m["worst_trade"] == pytest.approx(-1100.0)
    assert r.ruin["shortfall"] == pytest.approx(100.0)


def test_an_open_trade_at_the_end_is_reported_apart():
    c = make_candles([100, 100, 110, 120, 120, 125, 130], freq="1D")
    costs = Costs(maker_fee=0.0, taker_fee=0.001, slippage_bps=10, funding_rate=0.0)
    r = run_backtest(c, [1, 0, 0, 1, 1, 1, 1], BacktestConfig(initial_cash=1000.0, costs=costs, close_at_end=False))
    t = r.trades
    assert list(t.exit_reason) == ["signal", "open"]
    m = compute_metrics(r)
    closed, still = t.iloc[0], t.iloc[1]
    assert m["n_trades"] == 1 and m["fees_paid"] == pytest.approx(closed.fees)
    assert m["open_trade_fees"] == pytest.approx(still.fees)
    assert still.fees == pytest.approx(still.qty * still.entry_price * 0.001)
    assert m["slippage_paid"] == pytest.approx(closed.slippage)
    assert m["open_trade_slippage"] == pytest.approx(still.slippage)
    assert m["expectancy"] == pytest.approx(closed.pnl) and m["win_rate"] == 1.0
    assert r.assumptions["close_at_end"] == {"enabled": False, "rule": r.assumptions["close_at_end"]["rule"],
                                             "trades_closed_at_end": 0, "trades_left_open": 1}
    assert "not counted in n_trades" in r.assumptions["close_at_end"]["rule"]
    closed_at_end = run_backtest(c, [1, 0, 0, 1, 1, 1, 1], BacktestConfig(initial_cash=1000.0, costs=costs))
    assert compute_metrics(closed_at_end)["n_trades"] == 2
    assert closed_at_end.assumptions["close_at_end"]["trades_closed_at_end"] == 1
    assert "last bar's close" in closed_at_end.assumptions["close_at_end"]["rule"]


def test_trade_metrics_with_gaps_in_time_use_wall_clock_holding():
    t0 = pd.Timestamp("2024-01-05", tz="UTC")      # a Friday: the second trade spans a weekend
    trades = pd.DataFrame({
        "pnl": [10.0, -4.0, 6.0], "return_pct": [1.0, -0.4, 0.6],
        "entry_time": [t0, t0 + pd.Timedelta(days=1), t0], "exit_time": [t0 + pd.Timedelta(days=1),
                                                                          t0 + pd.Timedelta(days=4), t0],
        "fees": [1.0, 1.0, 0.5], "slippage": [0.1, 0.1, 0.05], "funding": [0.0, 0.0, 0.0],
        "exit_reason": ["signal", "stop_loss", "open"]})
    m = trade_metrics(trades)
    assert m["n_trades"] == 2 and m["profit_factor"] == pytest.approx(10 / 4)
    assert m["avg_holding_days"] == pytest.approx((1 + 3) / 2)
    assert m["fees_paid"] == 2.0 and m["open_trade_fees"] == 0.5 and m["open_trade_slippage"] == 0.05


def test_equity_with_gaps_matches_numpy_formulas():
    idx = pd.DatetimeIndex(["2024-01-01", "2024-01-02", "2024-01-05", "2024-01-06", "2024-01-20", "2024-01-21"],
                           tz="UTC", name="time")
    eq = pd.Series([100.0, 104.0, 98.0, 101.0, 110.0, 107.0], index=idx)
    m = equity_metrics(eq, 100.0, DAY)
    r = np.diff(np.r_[100.0, eq.to_numpy()]) / np.r_[100.0, eq.to_numpy()][:-1]
    years = 21 / 365
    assert m["annual_return"] == pytest.approx(1.07 ** (1 / years) - 1)
    assert m["volatility"] == pytest.approx(np.std(r, ddof=1) * math.sqrt(365))
    assert m["omega"] == pytest.approx(r[r > 0].sum() / -r[r < 0].sum())
    assert m["max_drawdown"] == pytest.approx(98 / 104 - 1)
    assert m["max_drawdown_duration_days"] == pytest.approx(18)         # Jan 2 peak, recovered Jan 20
