"""Candlestick patterns and technical events, without look-ahead.

Public API
----------
``detect_events(candles, timeframe, indicators=None) -> DataFrame``
    Tidy frame, one row per event, sorted by time: ``time`` (bar open time,
    UTC), ``event`` (name), ``kind`` (``candle``/``technical``),
    ``direction`` (+1 bullish / -1 bearish), ``strength`` (0..1).
``events_to_list(frame) -> list[Event]``; ``Event`` is a frozen dataclass.
``event_matrix(candles_arrays, indicators) -> dict[name, (direction, strength)]``
    The same information as per-bar numpy arrays (direction 0 = no event);
    the scoring layer uses this form.
``EVENTS``: name -> kind, in a stable order.

Definitions (an event at bar t uses bars up to and including t only)
---------------------------------------------------------------------
Candlestick patterns come from TA-Lib's recognisers (the kernels behind
pandas-ta's ``cdl_pattern``): ``engulfing`` (+/-), ``hammer`` (+),
``shooting_star`` (-), ``morning_star`` (+), ``evening_star`` (-) and
``doji`` (TA-Lib's CDLDOJI: body <= 10% of the mean range of the 10
*previous* bars; pandas-ta's own ``cdl_doji`` includes the current bar in
that mean, so it differs slightly), whose direction is against the previous
5-bar move (a doji after a rise is -1, after a fall +1; no event when flat).
The other five are tested bar-for-bar identical to pandas-ta's
``cdl_pattern``.  Their strength is the
bar's range over 1.5 ATR, clipped to [0.25, 1] (0.5 while ATR is warming up).

Technical events:
``macd_cross``      MACD crosses its signal line; strength 1.0 when the cross
                    happens on the far side of zero (bullish below zero), else 0.6.
``golden_cross``/``death_cross``  SMA50 crosses above/below SMA200; strength 1.
``bb_breakout``     close leaves the Bollinger band (above upper = +1, below
                    lower = -1: the momentum reading) after being inside;
                    strength = distance beyond the band / half band width.
``bb_squeeze``      bandwidth enters its lowest level of the last 120 bars
                    (<= 1.05 x the 120-bar minimum); direction = side of the
                    middle band the close is on; strength 0.5.
``rsi_divergence``  the last two confirmed swing lows (within 60 bars) make a
                    lower low in price but a higher low in RSI (+1), or the
                    swing highs a higher high with a lower RSI high (-1);
                    strength = RSI difference / 10, clipped to [0.2, 1].
``sr_break``        close crosses the most recent confirmed swing high
                    (resistance, +1) or swing low (support, -1) seen within
                    the last 100 bars; strength = distance / ATR, [0.2, 1].
``volume_spike``    volume z-score (previous 20 bars) >= 3; direction = bar
                    colour; strength = z / 6 clipped to [0.5, 1].

Swing points: bar i is a swing low if its low is the minimum of bars
i-3..i+3 (a swing high likewise).  That needs bars i+1..i+3, so a swing is
only *known* at bar i+3 (``SWING_K``): every event above uses a swing from
the bar where it is confirmed, never earlier.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import talib

from app.analysis.indicators import indicator_arrays, ohlcv_arrays, validate_candles

SWING_K = 3
SR_LOOKBACK = 100
DIVERGENCE_LOOKBACK = 60
SQUEEZE_LOOKBACK = 120
VOLUME_SPIKE_Z = 3.0

EVENTS: dict[str, str] = {
    "engulfing": "candle", "hammer": "candle", "shooting_star": "candle",
    "doji": "candle", "morning_star": "candle", "evening_star": "candle",
    "macd_cross": "technical", "golden_cross": "technical", "death_cross": "technical",
    "bb_breakout": "technical", "bb_squeeze": "technical", "rsi_divergence": "technical",
    "sr_break": "technical", "volume_spike": "technical",
}


@dataclass(frozen=True)
class Event:
    time: pd.Timestamp
    event: str
    kind: str
    direction: int
    strength: float

    def to_dict(self) -> dict:
        d = asdict(self)
        d["time"] = self.time.isoformat()
        return d


def _shift(a: np.ndarray, k: int, fill=np.nan) -> np.ndarray:
    out = np.empty_like(a, dtype=np.float64)
    if k >= len(a):
        out[:] = fill
        return out
    out[:k] = fill
    out[k:] = a[: len(a) - k]
    return out


def _nan_to(x: np.ndarray, value: float) -> np.ndarray:
    return np.where(np.isnan(x), value, x)


def _cross_up(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = a - b
    pd_ = _shift(d, 1)
    with np.errstate(invalid="ignore"):
        return (d > 0) & (pd_ <= 0)


def _last_index(mask: np.ndarray) -> np.ndarray:
    """For each bar, the index of the latest True at or before it (-1 if none)."""
    idx = np.where(mask, np.arange(len(mask)), -1)
    return np.maximum.accumulate(idx) if len(idx) else idx


def swing_points(high: np.ndarray, low: np.ndarray, k: int = SWING_K) -> tuple[np.ndarray, np.ndarray]:
    """Boolean arrays marking, at bar t, that bar t-k is a confirmed swing high / low."""
    n = len(high)
    sh = np.zeros(n, dtype=bool)
    sl = np.zeros(n, dtype=bool)
    w = 2 * k + 1
    if n >= w:
        hmax = talib.MAX(high, w)
        lmin = talib.MIN(low, w)
        center_h = _shift(high, k)
        center_l = _shift(low, k)
        with np.errstate(invalid="ignore"):
            sh = center_h >= hmax
            sl = center_l <= lmin
    return sh, sl


def _candle_strength(h, l, atr) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.clip((h - l) / (1.5 * atr), 0.25, 1.0)
    return np.where(np.isfinite(s), s, 0.5)


def _divergence(price, rsi, confirmed, at_lows: bool) -> tuple[np.ndarray, np.ndarray]:
    """Divergence signal at bars where a new swing (at t-k) is confirmed."""
    n = len(price)
    direction = np.zeros(n, dtype=np.int8)
    strength = np.zeros(n)
    conf = np.flatnonzero(confirmed)
    if len(conf) < 2:
        return direction, strength
    cur, prev = conf[1:], conf[:-1]
    ok = (cur - prev) <= DIVERGENCE_LOOKBACK
    p_cur, p_prev = price[cur - SWING_K], price[prev - SWING_K]
    r_cur, r_prev = rsi[cur - SWING_K], rsi[prev - SWING_K]
    with np.errstate(invalid="ignore"):
        if at_lows:
            hit = ok & (p_cur < p_prev) & (r_cur > r_prev)
        else:
            hit = ok & (p_cur > p_prev) & (r_cur < r_prev)
    t = cur[hit]
    direction[t] = 1 if at_lows else -1
    strength[t] = np.clip(np.abs(r_cur[hit] - r_prev[hit]) / 10.0, 0.2, 1.0)
    return direction, strength


def event_matrix(arrays: tuple[np.ndarray, ...], ind: dict[str, np.ndarray]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per-bar (direction int8, strength float) arrays for every name in ``EVENTS``."""
    o, h, l, c, v = arrays
    n = len(c)
    atr = ind["atr_14"]
    cs = _candle_strength(h, l, atr)
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def put(name: str, direction: np.ndarray, strength: np.ndarray) -> None:
        d = np.asarray(direction, dtype=np.int8)
        out[name] = (d, np.where(d != 0, strength, 0.0))

    put("engulfing", np.sign(talib.CDLENGULFING(o, h, l, c)), cs)
    put("hammer", (talib.CDLHAMMER(o, h, l, c) > 0).astype(np.int8), cs)
    put("shooting_star", -(talib.CDLSHOOTINGSTAR(o, h, l, c) != 0).astype(np.int8), cs)
    put("morning_star", (talib.CDLMORNINGSTAR(o, h, l, c) > 0).astype(np.int8), cs)
    put("evening_star", -(talib.CDLEVENINGSTAR(o, h, l, c) != 0).astype(np.int8), cs)
    move5 = c - _shift(c, 5)
    doji = talib.CDLDOJI(o, h, l, c) != 0
    with np.errstate(invalid="ignore"):
        doji_dir = np.where(doji & np.isfinite(move5), -np.sign(_nan_to(move5, 0.0)), 0)
    put("doji", doji_dir, 0.5 * cs)

    macd, sig = ind["macd"], ind["macd_signal"]
    up, dn = _cross_up(macd, sig), _cross_up(sig, macd)
    with np.errstate(invalid="ignore"):
        far = np.where(up, macd < 0, macd > 0)
    put("macd_cross", up.astype(np.int8) - dn.astype(np.int8), np.where(far, 1.0, 0.6))
    s50, s200 = ind["sma_50"], ind["sma_200"]
    put("golden_cross", _cross_up(s50, s200).astype(np.int8), np.ones(n))
    put("death_cross", -_cross_up(s200, s50).astype(np.int8), np.ones(n))

    upper, lower, mid, bw = ind["bb_upper"], ind["bb_lower"], ind["bb_mid"], ind["bb_bandwidth"]
    with np.errstate(invalid="ignore", divide="ignore"):
        above, below = c > upper, c < lower
        brk = (above & ~(_shift(c, 1) > _shift(upper, 1))).astype(np.int8) \
            - (below & ~(_shift(c, 1) < _shift(lower, 1))).astype(np.int8)
        half = (upper - lower) / 2.0
        dist = np.where(above, c - upper, lower - c)
        put("bb_breakout", brk, _nan_to(np.clip(dist / half, 0.0, 1.0), 0.5))
        squeeze = bw <= 1.05 * talib.MIN(bw, SQUEEZE_LOOKBACK) if n >= SQUEEZE_LOOKBACK else np.zeros(n, bool)
        enter = squeeze & ~(_shift(squeeze.astype(float), 1) > 0)
        side = np.where(c >= mid, 1, -1)
    put("bb_squeeze", np.where(enter, side, 0), np.full(n, 0.5))

    sh, sl = swing_points(h, l)
    rsi = ind["rsi_14"]
    d_lo, s_lo = _divergence(l, rsi, sl, at_lows=True)
    d_hi, s_hi = _divergence(h, rsi, sh, at_lows=False)
    put("rsi_divergence", np.where(d_lo != 0, d_lo, d_hi), np.where(d_lo != 0, s_lo, s_hi))

    # support/resistance: latest confirmed swing level, valid for SR_LOOKBACK bars
    res_at, sup_at = _last_index(sh), _last_index(sl)
    idx = np.arange(n)
    res = np.where((res_at >= 0) & (idx - res_at <= SR_LOOKBACK), h[np.maximum(res_at - SWING_K, 0)], np.nan)
    sup = np.where((sup_at >= 0) & (idx - sup_at <= SR_LOOKBACK), l[np.maximum(sup_at - SWING_K, 0)], np.nan)
    prev_c = _shift(c, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        # the level in force at t-1 is the one the close of t must cross
        res1, sup1 = _shift(res, 1), _shift(sup, 1)
        up_b = (c > res1) & (prev_c <= res1)
        dn_b = (c < sup1) & (prev_c >= sup1)
        dist = np.where(up_b, c - res1, sup1 - c)
        put("sr_break", up_b.astype(np.int8) - dn_b.astype(np.int8),
            _nan_to(np.clip(dist / atr, 0.2, 1.0), 0.5))
        z = ind["volume_z"]
        spike = z >= VOLUME_SPIKE_Z
        put("volume_spike", np.where(spike, np.where(c >= o, 1, -1), 0), np.clip(z / 6.0, 0.5, 1.0))
    return out


def detect_events(candles: pd.DataFrame, timeframe: str,
                  indicators: pd.DataFrame | None = None) -> pd.DataFrame:
    """All events as a tidy frame (``time, event, kind, direction, strength``)."""
    validate_candles(candles)
    if indicators is None:
        ind = indicator_arrays(candles, timeframe)
    else:
        if not indicators.index.equals(candles.index):
            raise ValueError("indicators must be indexed exactly like candles")
        ind = {k: indicators[k].to_numpy(dtype=np.float64) for k in indicators.columns}
    mat = event_matrix(ohlcv_arrays(candles), ind)
    return events_frame(candles.index, mat)


def events_frame(index: pd.DatetimeIndex, mat: dict[str, tuple[np.ndarray, np.ndarray]], start: int = 0
                 ) -> pd.DataFrame:
    """The event matrix as a tidy frame, by time then ``EVENTS`` order; ``start``: only bars from that
    position on (the analysis job keeps the latest bars' events). One frame is built, once."""
    order = {name: i for i, name in enumerate(EVENTS)}
    pos_parts, code_parts, dir_parts, str_parts = [], [], [], []
    for name, (d, s) in mat.items():
        pos = np.flatnonzero(d[start:]) + start
        if len(pos):
            pos_parts.append(pos)
            code_parts.append(np.full(len(pos), order[name]))
            dir_parts.append(d[pos])
            str_parts.append(s[pos])
    if not pos_parts:
        return pd.DataFrame({"time": pd.DatetimeIndex([], tz="UTC"), "event": pd.Series(dtype=object),
                             "kind": pd.Series(dtype=object), "direction": pd.Series(dtype=int),
                             "strength": pd.Series(dtype=float)})
    pos, code = np.concatenate(pos_parts), np.concatenate(code_parts)
    by = np.lexsort((code, pos))
    names = list(EVENTS)
    code = code[by]
    return pd.DataFrame({
        "time": index[pos[by]], "event": [names[c] for c in code], "kind": [EVENTS[names[c]] for c in code],
        "direction": np.concatenate(dir_parts)[by].astype(int), "strength": np.concatenate(str_parts)[by].astype(float),
    })


def events_to_list(frame: pd.DataFrame) -> list[Event]:
    return [Event(time=r.time, event=r.event, kind=r.kind, direction=int(r.direction),
                  strength=float(r.strength)) for r in frame.itertuples(index=False)]
