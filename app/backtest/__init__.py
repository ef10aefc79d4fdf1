"""Backtesting: engine, strategies, metrics, walk-forward, reports."""
