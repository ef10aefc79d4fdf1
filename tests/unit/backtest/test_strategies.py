"""Strategies: schemas, rules, and no look-ahead (truncation) for every one."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.unit.backtest.backtest_candles import make_candles, random_candles

from app.backtest.config import BacktestConfig
from app.backtest.engine import run_backtest
from app.backtest.runner import buy_and_hold, run_strategy
from app.backtest.strategies import STRATEGIES, Strategy, get_strategy

N = 600


def _series(candles, seed, lo, hi):
    rng = np.random.default_rng(seed)
    return pd.Series(rng.uniform(lo, hi, len(candles)), index=candles.index)


def build(name, candles):
    if name == "score_threshold":
        return get_strategy(name, _series(candles, 1, 0, 100), allow_short=True)
    if name == "lstm":
        return get_strategy(name, _series(candles, 2, 0, 1))
    return get_strategy(name)


def test_registry_has_every_strategy_with_a_schema():
    assert set(STRATEGIES) == {"ma_cross", "rsi_reversion", "bollinger_breakout", "macd_trend",
                               "score_threshold", "lstm", "buy_and_hold"}
    for name, cls in STRATEGIES.items():
        assert issubclass(cls, Strategy) and cls.name == name and cls.description
        for p in cls.schema():
            assert set(p) == {"name", "type", "default", "min", "max", "description", "choices"}
            assert p["type"] in {"int", "float", "bool", "str"}
            if p["type"] == "str":       # a choice: the entry semantics
                assert p["default"] in p["choices"] and p["name"] == "entry"
            elif p["type"] != "bool":
                assert p["min"] <= p["default"] <= p["max"]
        if name != "buy_and_hold":
            entry = next(p for p in cls.schema() if p["name"] == "entry")
            assert entry["default"] == "cross" and entry["choices"] == ["cross", "state"]


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_signals_are_targets_on_the_candle_index(name, candles):
    sig = build(name, candles).signals(candles)
    assert sig.index.equals(candles.index)
    assert set(np.unique(sig.to_numpy())) <= {-1, 0, 1}
    if name != "buy_and_hold":
        assert len(np.unique(sig.to_numpy())) >= 2   # the rule actually trades on this data


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_no_look_ahead_truncation_keeps_the_past_identical(name):
    candles = random_candles(N, seed=11)
    strategy = build(name, candles)
    full_sig = strategy.signals(candles)
    full = run_backtest(candles, full_sig, BacktestConfig(stop_loss=0.03, close_at_end=False))
    for cut in (150, 333, 480):
        part = candles.iloc[:cut]
        sig = strategy.signals(part)
        pd.testing.assert_series_equal(sig, full_sig.iloc[:cut])
        r = run_backtest(part, sig, BacktestConfig(stop_loss=0.03, close_at_end=False))
        done = full.trades[full.trades.exit_time < part.index[-1]].reset_index(drop=True)
        mine = r.trades[r.trades.exit_reason != "open"].reset_index(drop=True)
        mine = mine[mine.exit_time < part.index[-1]].reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, done)
        np.testing.assert_array_equal(r.equity.to_numpy(), full.equity.to_numpy()[:cut])


def test_ma_cross_rule_by_hand():
    closes = [10, 10, 10, 11, 12, 13, 12, 10, 9, 8]
    c = make_candles(closes)
    sig = get_strategy("ma_cross", fast=2, slow=3, entry="state").signals(c).tolist()
    fast = pd.Series(closes, dtype=float).rolling(2).mean()
    slow = pd.Series(closes, dtype=float).rolling(3).mean()
    expected = [0 if np.isnan(s) else (1 if f > s else -1) for f, s in zip(fast, slow)]
    assert sig == expected
    assert get_strategy("ma_cross", fast=2, slow=3, entry="state", allow_short=False).signals(c).min() == 0
    # cross (the default): flat until the first crossing, then the same state
    crossed = get_strategy("ma_cross", fast=2, slow=3).signals(c).tolist()
    first = next(t for t in range(3, len(closes)) if expected[t] != expected[t - 1])
    assert crossed == [0] * first + expected[first:]


def test_ma_cross_cross_entry_waits_for_a_crossing():
    # fast above slow from the first computable bar: state is long at once, cross waits
    closes = [10, 11, 12, 13, 14, 15, 14, 12, 10, 9, 11, 13, 15]
    c = make_candles(closes)
    state = get_strategy("ma_cross", fast=2, slow=3, entry="state").signals(c).tolist()
    cross = get_strategy("ma_cross", fast=2, slow=3, entry="cross").signals(c).tolist()
    assert state[2] == 1 and cross[2] == 0
    f = pd.Series(closes, dtype=float).rolling(2).mean().to_numpy()
    s = pd.Series(closes, dtype=float).rolling(3).mean().to_numpy()
    above = f > s
    down = next(t for t in range(3, len(closes)) if above[t - 1] and not above[t])
    up = next(t for t in range(down + 1, len(closes)) if above[t] and not above[t - 1])
    assert cross[:down] == [0] * down and cross[down] == -1 and cross[up] == 1
    assert cross[down:] == state[down:]
    # a long-only cross strategy: flat until the first up-crossing
    long_only = get_strategy("ma_cross", fast=2, slow=3, allow_short=False).signals(c).tolist()
    assert long_only[:up] == [0] * up and long_only[up] == 1
    with pytest.raises(ValueError, match="entry must be one of cross, state"):
        get_strategy("ma_cross", entry="sometimes")


def test_rsi_reversion_holds_until_the_exit_level():
    closes = [100 - i for i in range(20)] + [80 + 2 * i for i in range(20)]
    c = make_candles(closes)
    sig = get_strategy("rsi_reversion", length=5, allow_short=False, entry="state").signals(c)
    first_long = sig.to_numpy().argmax()
    assert sig.iloc[first_long] == 1 and first_long < 20         # entered while falling (oversold)
    assert (sig.iloc[first_long:20] == 1).all()                    # held while still oversold
    assert sig.iloc[-1] == 0                                       # exited once RSI recovered
    # cross: RSI is oversold from its first value on, so it never crosses below the level
    crossed = get_strategy("rsi_reversion", length=5, allow_short=False).signals(c)
    assert (crossed == 0).all()


def test_score_threshold_enter_above_exit_below():
    c = make_candles([100] * 8)
    score = pd.Series([50, 75, 60, 55, 45, 80, 10, 90], index=c.index, dtype=float)
    sig = get_strategy("score_threshold", score, enter_long=70, exit_long=50).signals(c).tolist()
    assert sig == [0, 1, 1, 1, 0, 1, 0, 1]


def test_score_missing_values_do_not_trade():
    c = make_candles([100] * 4)
    score = pd.Series([80.0], index=c.index[2:3])
    assert get_strategy("score_threshold", score, entry="state").signals(c).tolist() == [0, 0, 1, 1]
    # a crossing needs a known previous value: the first score is never one
    assert get_strategy("score_threshold", score).signals(c).tolist() == [0, 0, 0, 0]
    rising = pd.Series([60.0, 80.0], index=c.index[1:3])
    assert get_strategy("score_threshold", rising).signals(c).tolist() == [0, 0, 1, 1]


def test_lstm_thresholds_with_expected_returns():
    c = make_candles([100] * 6)
    pred = pd.Series([0.0, 0.004, 0.001, -0.004, -0.0005, 0.0], index=c.index)
    s = get_strategy("lstm", pred, enter_long=0.003, exit_long=0.0, enter_short=-0.003, exit_short=0.0)
    assert s.signals(c).tolist() == [0, 1, 1, -1, -1, -1]


def test_bad_parameters_are_rejected():
    with pytest.raises(ValueError, match="fast must be smaller"):
        get_strategy("ma_cross", fast=50, slow=20)
    with pytest.raises(ValueError, match=">= 2"):
        get_strategy("rsi_reversion", length=1)
    with pytest.raises(ValueError, match="unknown parameters"):
        get_strategy("macd_trend", speed=3)
    with pytest.raises(ValueError, match="whole number"):
        get_strategy("ma_cross", fast=2.5)
    with pytest.raises(ValueError, match="unknown strategy"):
        get_strategy("astrology")
    with pytest.raises(ValueError, match="precomputed score"):
        get_strategy("score_threshold")


def test_run_strategy_stamps_name_and_params(candles):
    r = run_strategy(candles, get_strategy("ma_cross", fast=5, slow=20), BacktestConfig())
    assert r.strategy == {"name": "ma_cross", "params": {"fast": 5, "slow": 20, "ema": False, "allow_short": True,
                                                         "entry": "cross"}}
    assert r.assumptions["entry"]["mode"] == "cross" and "crossing" in r.assumptions["entry"]["rule"]
    bh = buy_and_hold(candles)
    assert len(bh.trades) == 1 and bh.trades.entry_time.iloc[0] == candles.index[1]
    assert bh.start == r.start and bh.end == r.end
