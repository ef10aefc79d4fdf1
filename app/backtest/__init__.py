"""Backtesting: engine, strategies, metrics, walk-forward, reports, stored results.

Typical use (import from the modules; the package itself loads nothing, so a process that never
backtests never compiles the numba kernels)::

    from app.backtest.config import BacktestConfig
    from app.backtest.metrics import summary
    from app.backtest.runner import buy_and_hold, run_strategy
    from app.backtest.strategies import get_strategy

    result = run_strategy(candles, get_strategy("ma_cross", fast=10, slow=30), BacktestConfig(stop_loss=0.02))
    table = summary(result, buy_and_hold(candles))       # strategy vs buy-and-hold

Lower level: ``engine.run_backtest(candles, target_positions, config)``; see ``engine`` for the
execution rules (next-bar-open fills, stop-first rule, gaps). Reports: ``reports`` (CSV, JSON,
XLSX); the HTML tear sheet is drawn by ``app.figures.tearsheet``.
"""
