"""Per-timeframe score 0..100 with confidence, label and reasons.

Public API
----------
``score_series(candles, timeframe, config=None) -> DataFrame``
    ``score``, ``confidence``, ``label`` and one ``pts_<component>`` column per
    component at every bar; the value at bar t uses bars <= t only (tested by
    truncation), so backtests and the quality report can use it directly.
``score_latest(candles, timeframe, symbol, config=None, prediction=None) -> Signal``
    The latest bar's ``Signal`` with its ordered reasons.
``analyze_latest(candles_by_tf, symbol, config=None, predictions=None)
    -> (dict[tf, Signal], FusedSignal)``  the refresh job's entry point: each
    frame is cut to its last ``config.history_bars`` bars first (bounded tail,
    see ``app.analysis.indicators``; the default 2300 bars also cover a whole
    00:00 UTC session on 1m, so VWAP is exact), so a refresh costs about a
    millisecond per timeframe, and the latest score equals the full
    recompute's to 1e-6 (tested).
``readings(...)``, ``component_points(...)``, ``combine(...)`` expose the model's
    steps for tests and charts.

The model (all weights in ``ScoringConfig``; w = the component's weight)
-------------------------------------------------------------------------
score = clip(50 + sum of points, 0, 100); each component adds w * s with a
reading s in [-1, 1] that is non-decreasing in bullish evidence:
  trend  s = mean of clip(x / 2, -1, 1) for x = (close-EMA20)/ATR,
         (EMA20-EMA50)/ATR, (EMA50-EMA200)/ATR (missing terms count 0).
  dmi    s = (+DI - -DI)/(+DI + -DI) * min(ADX / adx_trending, 1).
  macd   s = clip(histogram / (0.25 ATR), -1, 1).
  rsi    oversold (RSI < 30): s = 0.5 + 0.5 * min((30 - RSI) / 20, 1);
         overbought (RSI > 70) the mirror image, negative; 0 in between.
  stoch  the same shape on slow %K with 20/80.
  vwap   s = clip((close - session VWAP) / ATR, -1, 1)  (intraday only).
  obv    s = OBV change over 20 bars / volume over those bars (in [-1, 1]).
  events each event type adds w_e * clip(sum over its occurrences in the last
         ``event_lookback`` bars of direction * strength * decay^age, -1, 1).
  model  s = 0.5 * (2 p_up - 1) + 0.5 * clip(expected_return_pct / scale, -1, 1)
         (latest bar only, when a ``Prediction`` is given).
confidence = coverage * history * (0.2 + 0.8 * agreement), where agreement =
|sum of points| / sum of |points| (1 when every component points the same
way, 0 when they cancel; 0 with no evidence), coverage = the weight share of
the applicable components whose inputs exist at that bar, and history =
min(1, bars so far / full_history_bars).
Labels: score <= 20 strong sell, < 40 sell, <= 60 neutral, < 80 buy, else
strong buy (``label_cuts``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from app.analysis.config import ScoringConfig
from app.analysis.fusion import fuse
from app.analysis.incremental import fingerprint
from app.analysis.indicators import (INTRADAY_TIMEFRAMES, validate_timeframe, indicator_arrays,
                                     ohlcv_arrays, validate_candles)
from app.analysis.patterns import EVENTS, event_matrix, events_frame
from app.analysis.reasons import build_reasons
from app.analysis.types import LABELS, FusedSignal, Prediction, Signal
from app.marketdata import validate_symbol

INDICATOR_COMPONENTS = ("trend", "dmi", "macd", "rsi", "stoch", "vwap", "obv")
OBV_WINDOW = 20


def _nz(x: np.ndarray) -> np.ndarray:
    """NaN -> 0 (a missing reading adds no points)."""
    return np.where(np.isnan(x), 0.0, x)


def _clip(x, lo=-1.0, hi=1.0):
    return np.minimum(np.maximum(x, lo), hi)


def readings(arrays: tuple[np.ndarray, ...], ind: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The raw evidence each component reads (NaN where not yet defined)."""
    o, h, l, c, v = arrays
    atr = ind["atr_14"]
    with np.errstate(invalid="ignore", divide="ignore"):
        atr_ok = np.where(atr > 0, atr, np.nan)
        obv = ind["obv"]
        obv_prev = np.full_like(obv, np.nan)
        obv_prev[OBV_WINDOW:] = obv[:-OBV_WINDOW]
        vsum = np.full_like(v, np.nan)
        cv = np.cumsum(v)
        vsum[OBV_WINDOW:] = cv[OBV_WINDOW:] - cv[:-OBV_WINDOW]
        pdi, mdi = ind["plus_di_14"], ind["minus_di_14"]
        return {
            "close_ema20": (c - ind["ema_20"]) / atr_ok,
            "ema20_ema50": (ind["ema_20"] - ind["ema_50"]) / atr_ok,
            "ema50_ema200": (ind["ema_50"] - ind["ema_200"]) / atr_ok,
            "di_spread": np.where(pdi + mdi > 0, (pdi - mdi) / (pdi + mdi), np.nan),
            "adx": ind["adx_14"],
            "macd_hist_atr": ind["macd_hist"] / atr_ok,
            "rsi": ind["rsi_14"],
            "stoch_k": ind["stoch_k"],
            "vwap_atr": (c - ind["vwap"]) / atr_ok,
            "obv_flow": np.where(vsum > 0, (obv - obv_prev) / vsum, np.nan),
        }


def _zone(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """Oscillator reading: + below ``low`` (0.5..1), - above ``high``, 0 between."""
    with np.errstate(invalid="ignore"):
        bull = np.where(x < low, 0.5 + 0.5 * np.minimum((low - x) / 20.0, 1.0), 0.0)
        bear = np.where(x > high, 0.5 + 0.5 * np.minimum((x - high) / 20.0, 1.0), 0.0)
    return bull - bear


def component_points(r: dict[str, np.ndarray], events: dict[str, tuple[np.ndarray, np.ndarray]],
                     config: ScoringConfig, intraday: bool = True) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Points per component per bar, and a boolean 'available' array per
    applicable component (used for coverage).  Event components are named
    ``event:<name>``."""
    w = config.component_weight
    pts: dict[str, np.ndarray] = {}
    avail: dict[str, np.ndarray] = {}
    with np.errstate(invalid="ignore"):
        terms = [r["close_ema20"], r["ema20_ema50"], r["ema50_ema200"]]
        trend = sum(_nz(_clip(t / 2.0)) for t in terms) / 3.0
        pts["trend"], avail["trend"] = w("trend") * trend, np.isfinite(terms[0])
        adx_f = np.minimum(r["adx"] / config.adx_trending, 1.0)
        dmi = r["di_spread"] * adx_f
        pts["dmi"], avail["dmi"] = w("dmi") * _nz(dmi), np.isfinite(dmi)
        macd = _clip(r["macd_hist_atr"] / 0.25)
        pts["macd"], avail["macd"] = w("macd") * _nz(macd), np.isfinite(macd)
        pts["rsi"] = w("rsi") * _zone(r["rsi"], config.rsi_oversold, config.rsi_overbought)
        avail["rsi"] = np.isfinite(r["rsi"])
        pts["stoch"] = w("stoch") * _zone(r["stoch_k"], config.stoch_oversold, config.stoch_overbought)
        avail["stoch"] = np.isfinite(r["stoch_k"])
        if intraday:
            vw = _clip(r["vwap_atr"])
            pts["vwap"], avail["vwap"] = w("vwap") * _nz(vw), np.isfinite(vw)
        obv = _clip(r["obv_flow"])
        pts["obv"], avail["obv"] = w("obv") * _nz(obv), np.isfinite(obv)
    decay = config.event_decay
    for name in EVENTS:
        we = config.event_weight(name)
        if we == 0 or name not in events:
            continue
        d, s = events[name]
        x = d * s
        acc = x.astype(np.float64).copy()
        for age in range(1, config.event_lookback):
            acc[age:] += x[:-age] * decay ** age
        pts[f"event:{name}"] = we * _clip(acc)
    return pts, avail


def combine(pts: dict[str, np.ndarray], avail: dict[str, np.ndarray], bars_seen: np.ndarray,
            config: ScoringConfig) -> tuple[np.ndarray, np.ndarray]:
    """(score, confidence) arrays from per-component points."""
    total = sum(pts.values())
    gross = sum(np.abs(p) for p in pts.values())
    score = np.clip(50.0 + total, 0.0, 100.0)
    agreement = np.where(gross > 1e-9, np.abs(total) / np.where(gross > 1e-9, gross, 1.0), 0.0)
    wsum = sum(config.component_weight(k) for k in avail)
    if wsum > 0:
        coverage = sum(config.component_weight(k) * a for k, a in avail.items()) / wsum
    else:
        coverage = np.ones_like(score)
    history = np.minimum(bars_seen / config.full_history_bars, 1.0)
    confidence = coverage * history * (0.2 + 0.8 * agreement)
    return score, confidence


def labels_for(score: np.ndarray, config: ScoringConfig) -> np.ndarray:
    c1, c2, c3, c4 = config.label_cuts
    return np.select([score <= c1, score < c2, score <= c3, score < c4], list(LABELS[:4]), LABELS[4])


def _model_points(prediction: Prediction, config: ScoringConfig) -> float:
    s = 0.5 * (2.0 * prediction.p_up - 1.0) + 0.5 * float(
        np.clip(prediction.expected_return_pct / config.model_return_scale_pct, -1.0, 1.0))
    return config.component_weight("model") * s


def _evaluate(candles: pd.DataFrame, timeframe: str, config: ScoringConfig, last_only: bool = False):
    validate_candles(candles)
    validate_timeframe(timeframe)
    if len(candles) == 0:
        raise ValueError("no candles to score")
    arrays = ohlcv_arrays(candles)
    ind = indicator_arrays(candles, timeframe, arrays, validate=False)
    ev = event_matrix(arrays, ind)
    r = readings(arrays, ind)
    if last_only:  # the latest bar's points need only the last event_lookback bars
        k = config.event_lookback
        r_pts = {name: x[-k:] for name, x in r.items()}
        ev_pts = {name: (d[-k:], s[-k:]) for name, (d, s) in ev.items()}
    else:
        r_pts, ev_pts = r, ev
    pts, avail = component_points(r_pts, ev_pts, config, intraday=timeframe in INTRADAY_TIMEFRAMES)
    return arrays, ind, ev, r, pts, avail


def score_series(candles: pd.DataFrame, timeframe: str, config: ScoringConfig | None = None) -> pd.DataFrame:
    """Score, confidence and label at every bar, without look-ahead."""
    config = config or ScoringConfig()
    _, _, _, _, pts, avail = _evaluate(candles, timeframe, config)
    bars_seen = np.arange(1, len(candles) + 1, dtype=np.float64)
    score, conf = combine(pts, avail, bars_seen, config)
    out = {"score": score, "confidence": conf, "label": labels_for(score, config)}
    out.update({f"pts_{k}": v for k, v in pts.items()})
    return pd.DataFrame(out, index=candles.index)


def score_latest(candles: pd.DataFrame, timeframe: str, symbol: str, config: ScoringConfig | None = None,
                 prediction: Prediction | None = None) -> Signal:
    """The ``Signal`` for the last bar of ``candles`` (uses the whole frame given)."""
    return _score_latest(candles, timeframe, symbol, config, prediction)[0]


def _score_latest(candles: pd.DataFrame, timeframe: str, symbol: str, config: ScoringConfig | None,
                  prediction: Prediction | None):
    """(Signal, event matrix): the indicators and events behind the score, computed once."""
    config = config or ScoringConfig()
    symbol = validate_symbol(symbol)
    if prediction is not None and not isinstance(prediction, Prediction):
        raise ValueError(f"prediction must be a Prediction, got {type(prediction).__name__}")
    arrays, ind, ev, r, pts, avail = _evaluate(candles, timeframe, config, last_only=True)
    last_pts = {k: v[-1:] for k, v in pts.items()}
    last_avail = {k: v[-1:] for k, v in avail.items()}
    if prediction is not None:
        last_pts["model"] = np.array([_model_points(prediction, config)])
        last_avail["model"] = np.array([True])
    score, conf = combine(last_pts, last_avail, np.array([float(len(candles))]), config)
    reasons = build_reasons({k: float(v[0]) for k, v in last_pts.items()},
                            {k: float(v[-1]) for k, v in r.items()}, ev, timeframe, config, prediction)
    signal = Signal(symbol=symbol, timeframe=timeframe, bar_time=candles.index[-1],
                    score=float(score[0]), confidence=float(conf[0]),
                    label=str(labels_for(score, config)[0]), reasons=reasons,
                    model_version=prediction.model_version if prediction else None)
    return signal, ev


def analyze_latest(candles_by_tf: dict[str, pd.DataFrame], symbol: str, config: ScoringConfig | None = None,
                   predictions: dict[str, Prediction] | None = None) -> tuple[dict[str, Signal], FusedSignal]:
    """Signals for the latest bar of each timeframe and their fused score.

    Each frame is cut to its last ``config.history_bars`` bars (bounded tail);
    empty frames are skipped.  ``predictions`` optionally maps tf -> Prediction.
    """
    signals, fused, _events = analyze_frames(candles_by_tf, symbol, config, predictions, events_bars=0)
    return signals, fused


def analyze_frames(candles_by_tf: dict[str, pd.DataFrame], symbol: str, config: ScoringConfig | None = None,
                   predictions: dict[str, Prediction] | None = None, events_bars: int | None = None,
                   memo=None, memo_key: str | None = None
                   ) -> tuple[dict[str, Signal], FusedSignal, dict[str, pd.DataFrame]]:
    """:func:`analyze_latest` plus each timeframe's detected events (``detect_events``'s frame), from
    the same indicator pass: an analysis job computes indicators and events once per timeframe.

    ``events_bars``: keep the events of the latest N bars only (None: all; 0: none are built).
    ``memo`` (:mod:`app.analysis.incremental`): a timeframe whose analysed bars, config, symbol and
    prediction are those of a remembered run reuses that run's signal and events (identical results)."""
    config = config or ScoringConfig()
    if not isinstance(candles_by_tf, dict) or not candles_by_tf:
        raise ValueError("candles_by_tf must be a non-empty dict of timeframe -> candle DataFrame")
    predictions = predictions or {}
    signals: dict[str, Signal] = {}
    events: dict[str, pd.DataFrame] = {}
    for tf, frame in candles_by_tf.items():
        validate_timeframe(tf)
        if frame is None or len(frame) == 0:
            continue
        tail = frame.iloc[-config.history_bars:] if len(frame) > config.history_bars else frame
        if memo is not None:
            key, fp = f"{memo_key or symbol}|{tf}", fingerprint(tail, tf, symbol, config, predictions.get(tf),
                                                                events_bars)
            hit = memo.get(key, fp)
            if hit is not None:
                signals[tf], evf = hit
                if events_bars != 0:
                    events[tf] = evf
                continue
        signals[tf], ev = _score_latest(tail, tf, symbol, config, predictions.get(tf))
        if events_bars != 0:
            events[tf] = events_frame(tail.index, ev, 0 if events_bars is None else max(0, len(tail) - events_bars))
        if memo is not None:
            memo.put(key, fp, (signals[tf], events.get(tf)))
    if not signals:
        raise ValueError(f"no candles for {symbol!r} in any timeframe")
    return signals, fuse(signals, validate_symbol(symbol), config), events
