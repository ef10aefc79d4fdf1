"""Bars that closed together (a backfill, a late batch): every bar since the last evaluation is
evaluated, oldest first, each rule gated as if the bars had come one at a time; idempotent."""
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd

from app.alerts.evaluate import MAX_CATCH_UP, RuleSpec, bars_to_evaluate, evaluate_symbol
from app.alerts.gating import Gate
from tests.unit.alerts.conftest import bars_from_close

ZIGZAG = [99, 101, 99, 101, 99, 101]  # crosses 100 up on bars 1, 3 and 5


def rule(i, kind="price_cross_up", params=None, **kw):
    return RuleSpec(id=i, user_id=1, name=f"r{i}", symbol="BTC/USDT", timeframe="1h", kind=kind,
                    params=params or {"level": 100.0}, **kw)


def fired(rules, b, since, last=None):
    return [(f.rule_id, b.times.get_loc(pd.Timestamp(f.bar_time))) for f in
            evaluate_symbol("BTC/USDT", rules, {"1h": b}, last or {}, {}, since={"1h": since})]


def test_which_bars_are_evaluated():
    b = bars_from_close(ZIGZAG)
    assert bars_to_evaluate(b, None).tolist() == [5]  # never evaluated: the latest closed bar
    assert bars_to_evaluate(b, b.times[1].to_pydatetime()).tolist() == [2, 3, 4, 5]
    assert bars_to_evaluate(b, b.times[5].to_pydatetime()).tolist() == [5]  # nothing new: the latest again
    long = bars_from_close(np.full(MAX_CATCH_UP + 50, 99.0))
    assert bars_to_evaluate(long, long.times[0].to_pydatetime()).tolist() == list(range(50, MAX_CATCH_UP + 50))


def test_every_bar_since_the_last_evaluation_fires_in_order_for_both_evaluation_paths():
    b = bars_from_close(ZIGZAG)
    b.indicators = {"rsi_14": np.array([50, 75, 50, 75, 50, 75.0])}  # above 70 on bars 1, 3, 5
    every = Gate(frequency="every_time")
    rules = [rule(1, gate=every), rule(2, "rsi_above", {"level": 70.0}, gate=every)]
    got = fired(rules, b, b.times[0].to_pydatetime())
    assert got == [(1, 1), (2, 1), (1, 3), (2, 3), (1, 5), (2, 5)]  # bar order, then rule
    # the latest bar alone when there is no cursor (the behaviour before any evaluation)
    assert fired(rules, b, None) == [(1, 5), (2, 5)]


def test_frequency_and_cooldown_decide_across_the_caught_up_bars():
    b = bars_from_close(ZIGZAG)
    since = b.times[0].to_pydatetime()
    assert fired([rule(1, gate=Gate(frequency="once"))], b, since) == [(1, 1)]
    # once per bar: an episode of "above" fires once (bars 1-2 above, 3 below, 4-5 above)
    above = bars_from_close([99, 101, 102, 99, 101, 103])
    assert fired([rule(2, "price_above", gate=Gate(frequency="once_per_bar"))], above, since) == [(2, 1), (2, 4)]
    # a 2.5 h cooldown: bar 3 closes 2 h after bar 1 did (blocked), bar 5 4 h after (fires)
    assert fired([rule(3, gate=Gate(frequency="every_time", cooldown_s=9000))], b, since) == [(3, 1), (3, 5)]
    # the previous firing stored before this pass counts too
    last = {(4, "BTC/USDT"): b.close_time(0).to_pydatetime()}
    assert fired([rule(4, gate=Gate(frequency="every_time", cooldown_s=9000))], b, since, last) == [(4, 3)]
    # expiry: nothing on bars closing at or after it
    expires = b.close_time(3).to_pydatetime()
    assert fired([rule(5, gate=Gate(frequency="every_time", expires_at=expires))], b, since) == [(5, 1)]


def test_a_new_or_changed_rule_does_not_fire_on_bars_that_closed_before_it():
    b = bars_from_close(ZIGZAG)
    made = b.close_time(2).to_pydatetime() + timedelta(minutes=10)  # created after bar 1's crossing
    r = rule(1, gate=Gate(frequency="every_time"), since=made)
    assert fired([r], b, b.times[0].to_pydatetime()) == [(1, 3), (1, 5)]
    # the latest closed bar is always evaluated (a rule made a minute ago sees the bar that just closed)
    late = rule(2, gate=Gate(frequency="every_time"), since=b.close_time(5).to_pydatetime() + timedelta(minutes=1))
    assert fired([late], b, b.times[0].to_pydatetime()) == [(2, 5)]


def test_the_job_evaluates_a_late_batch_once_in_order_and_moves_the_cursor(app):
    """workers.alerts.evaluate on stored candles: one bar, then three closing at once."""
    from sqlalchemy import text

    from app.alerts import store as alert_store
    from app.extensions import db
    from app.market import store
    from app.models import AlertRule, User
    from tests.fakes.candles import make_candles
    from workers.alerts import evaluate

    now = datetime.now(timezone.utc)
    last_closed = pd.Timestamp(now).floor("1h") - pd.Timedelta(hours=1)
    c = make_candles(60, start=(last_closed - pd.Timedelta(hours=59)).isoformat(), freq_s=3600, seed=2, price=95.0)
    closes = np.full(60, 98.0)
    closes[-3:] = [101.0, 99.0, 102.0]  # the late batch crosses 100 up on its first and last bar
    c[["open", "high", "low", "close"]] = np.column_stack([closes, closes + 0.1, closes - 0.1, closes])
    with app.app_context():
        user = User(email="catch@example.com", role="trader")
        user.set_password("correct-horse-battery")
        db.session.add(user)
        db.session.flush()
        created = datetime(2020, 1, 1, tzinfo=timezone.utc)
        db.session.add(AlertRule(user_id=user.id, name="zig", exchange="demo", symbol="BTC/USDT", timeframe="1h",
                                 kind="price_cross_up", params={"level": 100.0}, channels=["inapp"],
                                 frequency="every_time", cooldown_s=0, created_at=created, updated_at=created))
        sid = store.get_or_create_series(db.session, "demo", "BTC/USDT", "1h")
        store.upsert_candles(db.session, sid, c.iloc[:-3])
        db.session.commit()
        assert evaluate("demo", "BTC/USDT")["events"] == 0  # nothing crosses yet; the cursor is set
        assert alert_store.cursors(db.session, "demo", "BTC/USDT") == {"1h": c.index[-4].to_pydatetime()}
        store.upsert_candles(db.session, sid, c.iloc[-3:])  # three bars arrive together
        db.session.commit()
        assert evaluate("demo", "BTC/USDT")["events"] == 2
        assert evaluate("demo", "BTC/USDT")["events"] == 0  # re-evaluation records nothing twice
        rows = db.session.execute(text("SELECT bar_time FROM alert_events ORDER BY id")).scalars().all()
        assert [pd.Timestamp(t).tz_localize(None) for t in rows] == [c.index[-3].tz_localize(None),
                                                                    c.index[-1].tz_localize(None)]
        assert alert_store.cursors(db.session, "demo", "BTC/USDT") == {"1h": c.index[-1].to_pydatetime()}
        db.session.remove()
