"""Candlewise analysis layer: pure functions from candle frames to signals.

Modules (each documents its API and conventions in its docstring):
  indicators  compute_indicators(candles, timeframe, *, last=None, engine="talib") -> DataFrame
  patterns    detect_events(candles, timeframe, indicators=None) -> DataFrame; Event
  config      ScoringConfig (all weights and thresholds, to_dict/from_dict)
  scoring     score_series(candles, timeframe, config=None) -> DataFrame
              score_latest(candles, timeframe, symbol, config=None, prediction=None) -> Signal
              analyze_latest(candles_by_tf, symbol, config=None, predictions=None)
                  -> (dict[tf, Signal], FusedSignal)
              analyze_frames(...) -> (signals, fused, events per tf): one indicator pass per timeframe
  fusion      fuse(signals, symbol, config=None) -> FusedSignal
  quality     signal_quality(candles, scores, horizons=(1, 4, 12), min_history=200) -> DataFrame
              signal_quality_ci(...) the same with moving-block bootstrap intervals
  snapshot    build_snapshot(...) -> dict: the document the Signals page shows
  types       Prediction, Reason, Signal, FusedSignal

With storage (each takes the caller's connection or session; nothing commits):
  loading         stored_timeframes, load_frames: what an analysis run reads
  analyze         analyze_symbol: one run for a symbol (load, score once, store rows)
  quality_report  refresh_quality: the cached quality report and score history, when stale
  store           the ``signals`` and ``signal_quality`` rows
  reads           what the Signals page reads: snapshots (hot state first), history, quality

Inputs are canonical candle frames (tz-aware UTC ``DatetimeIndex`` named
``time`` of bar open times; float columns ``open high low close volume``).
Nothing here imports Dash, plotly or Flask's request globals; nothing looks ahead.
"""
