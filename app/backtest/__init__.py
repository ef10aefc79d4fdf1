"""Backtesting: engine, strategies, metrics, walk-forward, reports.

Typical use::

    from app.backtest import BacktestConfig, get_strategy, run_strategy, buy_and_hold, summary
    result = run_strategy(candles, get_strategy("ma_cross", fast=10, slow=30), BacktestConfig(stop_loss=0.02))
    table = summary(result, buy_and_hold(candles))       # strategy vs buy-and-hold
    html = tear_sheet_html(result, buy_and_hold(candles))

Lower level: ``run_backtest(candles, target_positions, config)``; see ``engine``
for the execution rules (next-bar-open fills, stop-first rule, gaps).
"""
from app.backtest.config import BacktestConfig, Costs
from app.backtest.engine import BacktestResult, MarketData, prepare, run_backtest
from app.backtest.metrics import compute_metrics, monthly_returns, summary
from app.backtest.reports import tear_sheet_html, to_json, to_xlsx, trades_csv
from app.backtest.runner import buy_and_hold, run_strategy
from app.backtest.strategies import STRATEGIES, Param, Strategy, get_strategy
from app.backtest.walkforward import WalkForwardResult, grid_search, walk_forward

__all__ = ["BacktestConfig", "BacktestResult", "Costs", "MarketData", "Param", "STRATEGIES", "Strategy",
           "WalkForwardResult", "buy_and_hold", "compute_metrics", "get_strategy", "grid_search",
           "monthly_returns", "prepare", "run_backtest", "run_strategy", "summary", "tear_sheet_html",
           "to_json", "to_xlsx", "trades_csv", "walk_forward"]
