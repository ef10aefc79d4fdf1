"""Candlewise analysis layer: pure functions from candle frames to signals.

Modules (each documents its API and conventions in its docstring):
  indicators  compute_indicators(candles, timeframe, *, last=None, engine="talib") -> DataFrame
  patterns    detect_events(candles, timeframe, indicators=None) -> DataFrame; Event
  config      ScoringConfig (all weights and thresholds, to_dict/from_dict)
  scoring     score_series(candles, timeframe, config=None) -> DataFrame
              score_latest(candles, timeframe, symbol, config=None, prediction=None) -> Signal
              analyze_latest(candles_by_tf, symbol, config=None, predictions=None)
                  -> (dict[tf, Signal], FusedSignal)
  fusion      fuse(signals, symbol, config=None) -> FusedSignal
  quality     signal_quality(candles, scores, horizons=(1, 4, 12), min_history=200) -> DataFrame
              signal_quality_ci(...) the same with moving-block bootstrap intervals
  types       Prediction, Reason, Signal, FusedSignal

Inputs are canonical candle frames (tz-aware UTC ``DatetimeIndex`` named
``time`` of bar open times; float columns ``open high low close volume``).
Nothing here imports Dash, Flask or the database; nothing looks ahead.
"""
