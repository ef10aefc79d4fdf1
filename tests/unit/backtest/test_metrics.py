"""Metrics against independent, written-out formulas."""
from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import pytest
from tests.unit.backtest.backtest_candles import make_candles

from app.backtest.config import BacktestConfig, Costs
from app.backtest.engine import BacktestResult, run_backtest
from app.backtest.metrics import compute_metrics, equity_metrics, monthly_returns, summary, trade_metrics
from app.backtest.runner import buy_and_hold

DAY = 86400


def _equity(values, freq="1D", start="2024-01-01"):
    idx = pd.date_range(start, periods=len(values), freq=freq, tz="UTC", name="time")
    return pd.Series(values, index=idx, dtype=float)


def test_equity_metrics_match_hand_formulas():
    values = [100, 110, 99, 105, 120, 90, 95, 130]
    eq = _equity(values)
    m = equity_metrics(eq, 100.0, DAY)
    rets = [values[0] / 100 - 1] + [values[i] / values[i - 1] - 1 for i in range(1, len(values))]
    mean, sd = statistics.fmean(rets), statistics.stdev(rets)
    assert m["total_return"] == pytest.approx(0.30)
    assert m["annual_return"] == pytest.approx(1.3 ** (365 / 8) - 1)
    assert m["volatility"] == pytest.approx(sd * math.sqrt(365))
    assert m["sharpe"] == pytest.approx(mean / sd * math.sqrt(365))
    downside = math.sqrt(sum(min(r, 0) ** 2 for r in rets) / len(rets))
    assert m["sortino"] == pytest.approx(mean / downside * math.sqrt(365))
    gains, losses = sum(r for r in rets if r > 0), -sum(r for r in rets if r < 0)
    assert m["omega"] == pytest.approx(gains / losses)
    # brute-force drawdown: worst fall from any earlier peak
    worst = min(values[j] / max(values[: j + 1]) - 1 for j in range(len(values)))
    assert m["max_drawdown"] == pytest.approx(worst) == pytest.approx(90 / 120 - 1)
    assert m["calmar"] == pytest.approx(m["annual_return"] / abs(worst))
    # underwater: day1 peak 110 -> day4 new high (3 days); day4 peak 120 -> day7 recovery (3 days)
    assert m["max_drawdown_duration_days"] == pytest.approx(3)
    assert m["longest_underwater_days"] == pytest.approx(3)


def test_underwater_until_the_end_counts_to_the_last_bar():
    m = equity_metrics(_equity([100, 120, 100, 101, 102, 103]), 100.0, DAY)
    assert m["max_drawdown_duration_days"] == pytest.approx(4)
    assert m["longest_underwater_days"] == pytest.approx(4)


def test_hourly_annualisation_uses_365_days():
    eq = _equity([100, 101, 100.5, 102], freq="1h")
    m = equity_metrics(eq, 100.0, 3600)
    rets = np.diff(np.r_[100, eq.to_numpy()]) / np.r_[100, eq.to_numpy()][:-1]
    assert m["volatility"] == pytest.approx(np.std(rets, ddof=1) * math.sqrt(365 * 24))


def test_trade_metrics_by_hand():
    t0 = pd.Timestamp("2024-01-01", tz="UTC")
    trades = pd.DataFrame({
        "pnl": [10.0, -5.0, 20.0, -15.0],
        "return_pct": [1.0, -0.5, 2.0, -1.5],
        "entry_time": [t0] * 4,
        "exit_time": [t0 + pd.Timedelta(days=d) for d in (1, 2, 3, 2)],
        "fees": [1.0, 1.0, 1.0, 1.0], "slippage": [0.5] * 4, "funding": [0.0, 0.1, 0.0, 0.0],
        "exit_reason": ["signal"] * 4,
    })
    m = trade_metrics(trades)
    assert m["n_trades"] == 4 and m["win_rate"] == 0.5
    assert m["profit_factor"] == pytest.approx(30 / 20)
    assert m["expectancy"] == pytest.approx(2.5)
    assert m["avg_win"] == pytest.approx(15) and m["avg_loss"] == pytest.approx(-10)
    assert m["best_trade"] == 20 and m["worst_trade"] == -15 and m["best_trade_pct"] == 2.0
    assert m["avg_holding_days"] == pytest.approx(2.0)
    assert m["fees_paid"] == 4.0 and m["slippage_paid"] == 2.0 and m["funding_paid"] == pytest.approx(0.1)


def test_no_trades_and_no_losses():
    empty = trade_metrics(pd.DataFrame({c: [] for c in ("pnl", "return_pct", "entry_time", "exit_time", "fees",
                                                       "slippage", "funding", "exit_reason")}))
    assert empty["n_trades"] == 0 and math.isnan(empty["win_rate"])
    r = run_backtest(make_candles([100, 100, 110, 110]), [1, 0, 0, 0],
                     BacktestConfig(costs=Costs(taker_fee=0, maker_fee=0, slippage_bps=0)))
    assert compute_metrics(r)["profit_factor"] == math.inf


def test_exposure_and_benchmark_columns(candles):
    sig = np.zeros(len(candles))
    sig[99:199] = 1      # held from bar 100 to bar 199 (exit at the open of 200)
    r = run_backtest(candles, sig)
    m = compute_metrics(r)
    assert m["exposure"] == pytest.approx(100 / len(candles))
    table = summary(r, buy_and_hold(candles))
    assert list(table.columns) == ["strategy", "buy_and_hold"]
    bh_return = table.at["total_return", "buy_and_hold"]
    first, last = candles.open.iloc[1], candles.close.iloc[-1]
    assert bh_return == pytest.approx(last / first - 1, abs=0.003)   # minus the round-trip costs
    assert bh_return < last / first - 1


def test_monthly_returns_table():
    idx = pd.date_range("2024-01-30", "2024-03-02", freq="1D", tz="UTC", name="time")
    values = np.linspace(100, 133, len(idx))
    eq = pd.Series(values, index=idx)
    table = monthly_returns(eq, 100.0)
    jan_end = eq.loc["2024-01"].iloc[-1]
    feb_end = eq.loc["2024-02"].iloc[-1]
    assert table.loc[2024, "1"] == pytest.approx(jan_end / 100 - 1)
    assert table.loc[2024, "2"] == pytest.approx(feb_end / jan_end - 1)
    assert table.loc[2024, "3"] == pytest.approx(values[-1] / feb_end - 1)
    assert math.isnan(table.loc[2024, "4"])
    assert table.loc[2024, "total"] == pytest.approx(values[-1] / 100 - 1)


def test_summary_refuses_a_benchmark_of_another_span(candles):
    r = run_backtest(candles, np.ones(len(candles)))
    other = buy_and_hold(candles.iloc[10:])
    with pytest.raises(ValueError, match="same span"):
        summary(r, other)
    assert isinstance(r, BacktestResult)
