"""Every condition on constructed series: fires on the crossing bar, not before; nothing uses bars after t."""
import numpy as np
import pytest

from app.alerts import events, indicators, lstm, price, score, volume
from app.alerts.bars import Bars
from app.alerts.kinds import KINDS
from tests.unit.alerts.conftest import bars_from_close


def fired(mask) -> list[int]:
    return np.flatnonzero(mask).tolist()


def test_price_crossing_up_fires_on_the_crossing_bar_only():
    b = bars_from_close([90, 95, 99, 100, 101, 103, 99, 102])
    assert fired(price.price_cross_up(b, {"level": 100})[0]) == [4, 7]  # 100 -> 101 crosses; 100 itself is not above
    assert fired(price.price_cross_down(b, {"level": 100})[0]) == [6]
    assert fired(price.price_above(b, {"level": 100})[0]) == [4, 5, 7]
    assert fired(price.price_below(b, {"level": 95})[0]) == [0]


def test_percent_move_over_a_window():
    b = bars_from_close([100, 101, 102, 104, 110, 99])
    mask, change = price.percent_move(b, {"pct": 5.0, "window": 3})
    assert fired(mask) == [4]  # 110 / 101 - 1 = 8.9 %; 104/100 = 4 % is not enough
    assert change[4] == pytest.approx(8.9108911, rel=1e-6)
    assert fired(price.percent_move(b, {"pct": -5.0, "window": 1})[0]) == [5]


def test_batch_form_agrees_with_the_condition_on_the_last_bar():
    b = bars_from_close([99, 101])
    levels = np.array([98.0, 100.0, 101.0, 102.0])
    for kind in price.BATCH_KINDS:
        expected = [bool(KINDS[kind].func(b, {"level": lv})[0][-1]) for lv in levels]
        assert price.last_many(b, kind, levels).tolist() == expected, kind


def test_rsi_macd_ma_and_bollinger_on_indicator_arrays():
    n = 6
    b = bars_from_close([10, 11, 12, 13, 14, 15])
    b.indicators = {"rsi_14": np.array([np.nan, 50, 69, 71, 72, 60]),
                    "macd": np.array([-1, -0.5, 0.2, 0.3, -0.1, 0.0]),
                    "macd_signal": np.zeros(n),
                    "ema_50": np.array([12, 12, 12, 12, 16, 14.5]),
                    "bb_upper": np.array([20, 20, 11.5, 20, 13, 20]), "bb_lower": np.array([5, 5, 5, 13.5, 5, 5])}
    assert fired(indicators.rsi_above(b, {"level": 70})[0]) == [3, 4]
    assert fired(indicators.rsi_below(b, {"level": 55})[0]) == [1]  # NaN at bar 0 is not below anything
    assert fired(indicators.macd_cross(b, {"direction": "up"})[0]) == [2]
    assert fired(indicators.macd_cross(b, {"direction": "down"})[0]) == [4]
    assert fired(indicators.ma_cross(b, {"ma": "ema", "length": 50, "direction": "up"})[0]) == [3, 5]
    assert fired(indicators.ma_cross(b, {"ma": "ema", "length": 50, "direction": "down"})[0]) == [4]
    assert fired(indicators.bb_breakout(b, {"direction": "up"})[0]) == [2, 4]
    assert fired(indicators.bb_breakout(b, {"direction": "down"})[0]) == [3]


def test_pattern_event_with_direction():
    b = bars_from_close([1, 2, 3, 4])
    b.events = {"engulfing": np.array([0, 1, -1, 0])}
    assert fired(events.pattern(b, {"event": "engulfing", "direction": "any"})[0]) == [1, 2]
    assert fired(events.pattern(b, {"event": "engulfing", "direction": "bearish"})[0]) == [2]
    assert fired(events.pattern(b, {"event": "hammer", "direction": "any"})[0]) == []


def test_volume_spike_uses_only_previous_bars_as_its_baseline():
    vol = [10, 12, 10, 12, 10, 12, 60, 12]
    b = bars_from_close(np.ones(8), volume=vol)
    mask, z = volume.volume_spike(b, {"window": 5, "z": 3.0})
    assert fired(mask) == [6]
    assert z[6] == pytest.approx((60 - 11.2) / np.std([12, 10, 12, 10, 12]))  # baseline bars 1..5
    assert np.isnan(z[:5]).all()


def test_score_cross_and_label_change():
    b = bars_from_close(np.ones(5))
    b.scores = {"fused": np.array([np.nan, 40, 55, 62, 58])}
    b.labels = {"fused": np.array([None, "neutral", "buy", "buy", "strong buy"], dtype=object)}
    assert fired(score.score_cross(b, {"source": "fused", "level": 60, "direction": "up"})[0]) == [3]
    assert fired(score.score_cross(b, {"source": "fused", "level": 60, "direction": "down"})[0]) == [4]
    assert fired(score.label_change(b, {"source": "fused", "to": None})[0]) == [2, 4]
    assert fired(score.label_change(b, {"source": "fused", "to": "strong buy"})[0]) == [4]
    assert fired(score.score_cross(b, {"source": "1h", "level": 0, "direction": "up"})[0]) == []


def test_lstm_p_up_crossing_and_no_champion():
    b = bars_from_close(np.ones(4), p_up=np.array([0.5, 0.58, 0.61, 0.7]))
    assert fired(lstm.lstm_cross(b, {"level": 0.6, "direction": "up"})[0]) == [2]
    assert fired(lstm.lstm_cross(bars_from_close(np.ones(4)), {"level": 0.6, "direction": "up"})[0]) == []


def _params(kind):
    return {n: (p.default if p.default is not None else (p.choices[0] if p.choices else
                                                         (100.0 if kind.startswith("price") else 1.0)))
            for n, p in KINDS[kind].params.items()}


def _truncate(b: Bars, t: int) -> Bars:
    out = Bars(b.symbol, b.timeframe, b.times[: t + 1], b.open[: t + 1], b.high[: t + 1], b.low[: t + 1],
               b.close[: t + 1], b.volume[: t + 1])
    out.indicators = {k: v[: t + 1] for k, v in b.indicators.items()}
    out.events = {k: v[: t + 1] for k, v in b.events.items()}
    out.scores = {k: v[: t + 1] for k, v in b.scores.items()}
    out.labels = {k: v[: t + 1] for k, v in b.labels.items()}
    out.p_up = None if b.p_up is None else b.p_up[: t + 1]
    return out


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_no_look_ahead_changing_later_bars_changes_nothing_before(kind, walk):
    """The mask at bar t is the same whether or not bars after t exist, and whatever they hold."""
    from app.alerts.bars import from_candles
    from tests.fakes.candles import make_candles

    params = _params(kind)
    if kind.startswith("price"):
        params["level"] = float(np.median(walk.close))
    rng = np.random.default_rng(0)
    walk.scores = {"fused": rng.uniform(-80, 80, len(walk))}
    walk.labels = {"fused": np.array(rng.choice(["buy", "sell", "neutral"], len(walk)), dtype=object)}
    walk.p_up = rng.uniform(0.3, 0.8, len(walk))
    full, _ = KINDS[kind].func(walk, params)
    for t in (60, 250, 420):
        cut, _ = KINDS[kind].func(_truncate(walk, t), params)
        assert cut.tolist() == full[: t + 1].tolist(), (kind, t)
    # recompute the indicators from candles that differ only after bar 300: bars <= 300 agree
    candles = make_candles(600, seed=3)
    changed = candles.copy()
    changed.iloc[301:, :4] *= 1.5
    a, b = from_candles("BTC/USDT", "1m", candles), from_candles("BTC/USDT", "1m", changed)
    for x in (a, b):
        x.scores, x.labels, x.p_up = walk.scores, walk.labels, walk.p_up
    ma, _ = KINDS[kind].func(a, params)
    mb, _ = KINDS[kind].func(b, params)
    assert ma[:301].tolist() == mb[:301].tolist()
