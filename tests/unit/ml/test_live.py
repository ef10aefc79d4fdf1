"""Live scoring: outcomes only once the next bar closed, metrics against hand formulas, the DM test, the flag."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ml.live import (base_rate_p, compare, diebold_mariano, live_metrics, log_losses, outcomes, review, rolling,
                     scored)

T = pd.date_range("2024-01-01", periods=6, freq="1h", tz="UTC")


def test_outcomes_use_the_next_stored_bar_and_only_once_it_closed():
    close = pd.Series([10.0, 11.0, 10.5, 10.5, 12.0, 11.0], index=T)
    got = outcomes(close, T, last_closed=T[4])
    # t0 -> 11 > 10 up; t1 -> 10.5 down; t2 -> equal is not up; t3 -> 12 up; t4: next bar (t5) not closed
    np.testing.assert_array_equal(got[:4], [1.0, 0.0, 0.0, 1.0])
    assert np.isnan(got[4]) and np.isnan(got[5])
    # a gap: the next bar present counts; an unknown bar time has no outcome
    gappy = close.drop(T[2])
    assert outcomes(gappy, [T[1], T[2]], T[5]).tolist()[0] == 0.0
    assert np.isnan(outcomes(gappy, [T[2]], T[5])[0])
    # nothing after last_closed is read: changing a later close changes nothing
    later = close.copy()
    later.iloc[5] = 1000.0
    np.testing.assert_array_equal(outcomes(later, T[:4], T[4]), got[:4])
    with pytest.raises(ValueError, match="timezone-aware"):
        outcomes(close, T, pd.Timestamp("2024-01-01"))


def test_metrics_match_formulas_written_out_by_hand():
    y = np.array([1, 0, 1, 1, 0, 0, 1, 0], dtype=float)
    p = np.array([0.8, 0.3, 0.45, 0.9, 0.6, 0.2, 0.55, 0.5])
    m = live_metrics(y, p)
    hand_ll = -sum(math.log(pi) if yi else math.log(1 - pi) for yi, pi in zip(y, p)) / len(y)
    hand_acc = sum((pi > 0.5) == (yi == 1) for yi, pi in zip(y, p)) / len(y)
    hand_brier = sum((pi - yi) ** 2 for yi, pi in zip(y, p)) / len(y)
    assert m["n"] == 8 and m["accuracy"] == pytest.approx(hand_acc) and hand_acc == 6 / 8
    assert m["log_loss"] == pytest.approx(hand_ll) and m["brier"] == pytest.approx(hand_brier)
    # live base rate: Laplace's rule on the earlier scored bars only
    hand_base, ups = [], 0
    for i, yi in enumerate(y):
        hand_base.append((1 + ups) / (2 + i))
        ups += yi
    np.testing.assert_allclose(base_rate_p(y), hand_base)
    assert m["base_rate_log_loss"] == pytest.approx(
        -np.mean([math.log(b) if yi else math.log(1 - b) for yi, b in zip(y, hand_base)]))
    # reliability curve: bins of width 0.1 with their counts, mean p and up share
    bins = {round(r["lo"], 1): r for r in m["curve"]}
    assert bins[0.5]["n"] == 2 and bins[0.5]["mean_p"] == pytest.approx(0.525) and bins[0.5]["up_share"] == 0.5
    assert sum(r["n"] for r in m["curve"]) == 8
    assert m["ece"] == pytest.approx(sum(r["n"] / 8 * abs(r["up_share"] - r["mean_p"]) for r in m["curve"]))
    assert live_metrics([], []) is None
    np.testing.assert_allclose(log_losses([1, 0], [1.0, 1.0]), [-math.log(1 - 1e-7), -math.log(1e-7)])


def _hand_dm(d, lag):
    n = len(d)
    mean = sum(d) / n
    e = [x - mean for x in d]
    s = sum(x * x for x in e) / n
    for k in range(1, lag + 1):
        s += 2 * (1 - k / (lag + 1)) * sum(e[i] * e[i - k] for i in range(k, n)) / n
    stat = mean / math.sqrt(s / n)
    return stat, 2 * (1 - 0.5 * (1 + math.erf(abs(stat) / math.sqrt(2))))


def test_diebold_mariano_matches_the_formula_and_sees_a_better_model():
    rng = np.random.default_rng(3)
    a = rng.uniform(0.5, 0.9, 64)
    b = a + rng.normal(0.05, 0.05, 64)           # b is worse on average
    got = diebold_mariano(a, b)
    assert got["lag"] == 4                          # floor(64 ** (1/3))
    stat, p = _hand_dm(list(a - b), 4)
    assert got["statistic"] == pytest.approx(stat) and got["p_value"] == pytest.approx(p)
    assert got["statistic"] < 0 and got["p_value"] < 0.01
    same = diebold_mariano(a, a.copy())
    assert same["statistic"] is None and same["mean_diff"] == 0.0
    noise = diebold_mariano(a, a + rng.normal(0, 0.05, 64))
    assert noise["p_value"] > 0.01
    with pytest.raises(ValueError, match="same bars"):
        diebold_mariano(a, b[:-1])


def _frame(y, p, times=None):
    times = times if times is not None else pd.date_range("2024-01-01", periods=len(y), freq="1h", tz="UTC")
    return pd.DataFrame({"y": y, "p_up": p}, index=times)


def test_unscored_and_withheld_rows_are_not_scored_and_the_window_is_the_last_bars():
    f = _frame([1.0, np.nan, 0.0, 1.0, 1.0], [0.6, 0.7, np.nan, 0.4, 0.8])
    assert list(scored(f).index) == [f.index[0], f.index[3], f.index[4]]
    last = rolling(f, 2)
    assert list(last.index) == [f.index[3], f.index[4]]
    np.testing.assert_allclose(last["base"], [2 / 3, 3 / 4])         # base rate from all earlier scored bars
    with pytest.raises(ValueError, match="window"):
        rolling(f, 0)


def test_review_flags_a_champion_behind_the_base_rate_or_the_challenger():
    rng = np.random.default_rng(0)
    n = 200
    y = (rng.uniform(size=n) < 0.5).astype(float)
    sure = rng.uniform(0.6, 0.8, n)
    good = np.where(y == 1, sure, 1 - sure)               # knows the answer a bit
    bad = 1 - good                                        # confidently wrong
    times = pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC")
    champ_bad, chall_good = _frame(y, bad, times), _frame(y, good, times)
    r = review(champ_bad, chall_good, window=100)
    assert r["judged"] and r["flagged"] and r["n"] == 100
    assert any("base rate" in why for why in r["reasons"]) and any("challenger" in why for why in r["reasons"])
    assert r["versus"]["n"] == 100 and r["versus"]["dm"]["p_value"] < 0.001
    assert r["metrics"]["accuracy"] == 0.0
    ok = review(chall_good, champ_bad, window=100)
    assert not ok["flagged"] and ok["reasons"] == [] and ok["metrics"]["accuracy"] == 1.0
    assert not review(chall_good, None, window=100)["flagged"]
    young = review(champ_bad.iloc[:10], None, window=100, min_samples=20)
    assert not young["judged"] and not young["flagged"] and "fewer than the 20" in young["reasons"][0]


def test_compare_uses_only_the_bars_both_versions_predicted():
    times = pd.date_range("2024-01-01", periods=6, freq="1h", tz="UTC")
    a = _frame([1, 0, 1, 1, 0, 1], [0.6] * 6, times)
    b = _frame([1, 0, 1, 1], [0.4] * 4, times[2:])                 # the challenger arrived later
    out = compare(a, b.assign(y=[1, 1, 0, 1]), window=50)
    assert out["n"] == 4
    assert out["champion_log_loss"] == pytest.approx(np.mean(log_losses([1, 1, 0, 1], [0.6] * 4)))
    assert out["challenger_log_loss"] == pytest.approx(np.mean(log_losses([1, 1, 0, 1], [0.4] * 4)))
    with pytest.raises(ValueError, match="different outcomes"):
        compare(a, b, window=50)
