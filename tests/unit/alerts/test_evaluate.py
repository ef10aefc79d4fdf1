"""One pass over all rules of a symbol on its latest closed bar."""
from datetime import timedelta

import numpy as np

from app.alerts.bars import closed_only
from app.alerts.evaluate import RuleSpec, UserPrefs, evaluate_symbol
from app.alerts.gating import Gate
from tests.unit.alerts.conftest import bars_from_close


def rule(i, kind="price_cross_up", params=None, **kw):
    return RuleSpec(id=i, user_id=kw.pop("user_id", 1), name=f"r{i}", symbol=kw.pop("symbol", "BTC/USDT"),
                    timeframe=kw.pop("timeframe", "1h"), kind=kind, params=params or {"level": 100.0}, **kw)


def test_only_the_latest_bar_fires_and_cooldown_uses_the_last_firing():
    b = bars_from_close([99, 101, 102])  # crossed 100 on bar 1, not on the latest bar 2
    assert evaluate_symbol("BTC/USDT", [rule(1)], {"1h": b}, {}, {}) == []
    b = bars_from_close([99, 98, 101])
    [f] = evaluate_symbol("BTC/USDT", [rule(1)], {"1h": b}, {}, {})
    assert f.rule_id == 1 and f.bar_time == b.times[-1].to_pydatetime() and f.value == 101.0
    assert f.bar_close == f.bar_time + timedelta(hours=1) and not f.quiet
    # fired 30 minutes before this bar closed, cooldown 1 h: nothing
    last = {(2, "BTC/USDT"): f.bar_close - timedelta(minutes=30)}
    assert evaluate_symbol("BTC/USDT", [rule(2, gate=Gate(cooldown_s=3600))], {"1h": b}, last, {}) == []


def test_batched_price_rules_match_one_by_one_and_other_kinds_run_once():
    b = bars_from_close([99, 98, 101])
    b.indicators = {"rsi_14": np.array([50, 60, 75.0])}
    rules = [rule(i, params={"level": float(lv)}) for i, lv in enumerate([97, 99, 100, 101, 102], start=1)]
    rules += [rule(10, "rsi_above", {"level": 70.0}), rule(11, "rsi_above", {"level": 70.0}, user_id=2),
              rule(12, "price_above", {"level": 100.0}, gate=Gate(frequency="once_per_bar"))]
    got = sorted(f.rule_id for f in evaluate_symbol("BTC/USDT", rules, {"1h": b}, {}, {}))
    assert got == [2, 3, 10, 11, 12]  # 98 -> 101 crosses 99 and 100 only


def test_paused_user_other_symbol_other_timeframe_and_watchlist_rules():
    b = bars_from_close([99, 98, 101])
    rules = [rule(1, user_id=7), rule(2, symbol="ETH/USDT"), rule(3, timeframe="4h"), rule(4, symbol=None)]
    got = evaluate_symbol("BTC/USDT", rules, {"1h": b}, {}, {7: UserPrefs(paused=True)})
    assert [f.rule_id for f in got] == [4] and got[0].symbol == "BTC/USDT"


def test_quiet_hours_mark_the_firing_and_rule_hours_override_the_users():
    b = bars_from_close([99, 98, 101], start="2026-01-01T20:00:00Z")  # last bar closes 23:00 UTC
    prefs = {1: UserPrefs(timezone="Europe/Berlin", quiet_start="23:30", quiet_end="06:00")}  # 00:00 Berlin
    [f] = evaluate_symbol("BTC/USDT", [rule(1)], {"1h": b}, {}, prefs)
    assert f.quiet
    [f] = evaluate_symbol("BTC/USDT", [rule(1, quiet_start="08:00", quiet_end="09:00")], {"1h": b}, {}, prefs)
    assert not f.quiet


def test_closed_only_drops_the_forming_bar():
    from tests.fakes.candles import make_candles

    c = make_candles(5, start="2026-01-01T00:00:00Z", freq_s=3600)
    now = c.index[-1] + timedelta(minutes=59)  # the last bar closes at +60 min
    assert len(closed_only(c, "1h", now)) == 4
    assert len(closed_only(c, "1h", now + timedelta(minutes=1))) == 5
