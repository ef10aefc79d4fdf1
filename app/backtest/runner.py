"""Glue: run a strategy, and its buy-and-hold benchmark, through the engine."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import pandas as pd

from app.backtest.config import BacktestConfig
from app.backtest.engine import BacktestResult, MarketData, prepare, run_backtest
from app.backtest.strategies import BuyAndHold, Strategy

Candles = pd.DataFrame | Mapping[str, pd.DataFrame] | MarketData


def _data(candles: Candles) -> MarketData:
    return candles if isinstance(candles, MarketData) else prepare(candles)


def strategy_signals(data: MarketData, strategy: Strategy) -> pd.DataFrame:
    """Target positions of ``strategy`` for every symbol of ``data`` (columns = symbols)."""
    return pd.DataFrame({s: strategy.signals(data.frame(s)) for s in data.symbols})


def run_strategy(candles: Candles, strategy: Strategy, config: BacktestConfig | None = None) -> BacktestResult:
    """Backtest ``strategy`` on one frame or a ``{symbol: frame}`` portfolio (same rule per symbol)."""
    if not isinstance(strategy, Strategy):
        raise ValueError(f"strategy must be a Strategy instance, got {type(strategy).__name__}")
    data = _data(candles)
    return run_backtest(data, strategy_signals(data, strategy), config,
                        strategy={"name": strategy.name, "params": dict(strategy.values)})


def buy_and_hold(candles: Candles, config: BacktestConfig | None = None) -> BacktestResult:
    """The benchmark over the same span with the same costs: long from the
    second bar's open, equal weight across symbols, no stops, no lot rounding."""
    config = config or BacktestConfig()
    data = _data(candles)
    bench = replace(config, sizing="fixed_fraction", fraction=1.0 / len(data.symbols),
                    stop_loss=None, take_profit=None, trailing_stop=None, qty_step=0.0)
    return run_backtest(data, strategy_signals(data, BuyAndHold()), bench,
                        strategy={"name": BuyAndHold.name, "params": {}})
