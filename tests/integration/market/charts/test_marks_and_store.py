"""app.market.charts.marks and .store on a migrated database: each user's own marks only, bounded reads,
and the saved layout (checked on the way in)."""
from datetime import datetime, timedelta, timezone

import pytest

from app.extensions import db
from app.market.charts import layouts, marks, store
from app.models import (AlertEvent, AlertRule, Backtest, BacktestTrade, PaperFill, PaperStrategy, Prediction)

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def users(app):
    from app.auth.users import create_user

    with app.app_context():
        a = create_user("a@example.com", "correct-horse-battery", role="viewer").id
        b = create_user("b@example.com", "correct-horse-battery", role="trader").id
        yield a, b


def _rule(uid, level, symbol="BTC/USDT", kind="price_above", **more):
    return AlertRule(user_id=uid, name=f"r{level}", exchange="demo", symbol=symbol, timeframe="1m", kind=kind,
                     params={"level": level}, channels=["inapp"], **more)


def test_alert_levels_and_firings_are_the_users_own(users):
    a, b = users
    db.session.add_all([_rule(a, 100.0), _rule(a, 90.0, symbol=None), _rule(a, 80.0, paused=True),
                        _rule(a, 70.0, symbol="ETH/USDT"), _rule(b, 60.0),
                        AlertRule(user_id=a, name="rsi", exchange="demo", symbol="BTC/USDT", timeframe="1m",
                                  kind="rsi_above", params={"level": 70}, channels=["inapp"])])
    db.session.flush()
    rule = db.session.query(AlertRule).filter_by(user_id=a, name="r100.0").one()
    other = db.session.query(AlertRule).filter_by(user_id=b).one()
    db.session.add_all([AlertEvent(rule_id=rule.id, user_id=a, exchange="demo", symbol="BTC/USDT", timeframe="1m",
                                   bar_time=T0 + timedelta(minutes=k), value=100.0 + k, message=f"m{k}")
                        for k in range(3)]
                       + [AlertEvent(rule_id=other.id, user_id=b, exchange="demo", symbol="BTC/USDT", timeframe="1m",
                                     bar_time=T0, value=1.0, message="theirs")])
    db.session.commit()
    assert [lv["level"] for lv in marks.alert_levels(db.session, a, "demo", "BTC/USDT")] == [100.0, 90.0]
    fires = marks.alert_fires(db.session, a, "demo", "BTC/USDT", "1m", T0 + timedelta(minutes=1))
    assert [f["message"] for f in fires] == ["m1", "m2"] and fires[0]["time"] == "2025-01-01T00:01:00+00:00"
    assert marks.alert_fires(db.session, a, "demo", "BTC/USDT", "5m", T0) == []


def test_trades_of_a_backtest_or_paper_strategy_only_for_their_owner_and_symbol(users):
    a, b = users
    bt = Backtest(user_id=a, exchange="demo", symbol="BTC/USDT", timeframe="1m", strategy="sma_cross", params={},
                  config={}, start_at=T0, end_at=T0 + timedelta(days=1), status="finished")
    db.session.add(bt)
    db.session.flush()
    db.session.add(BacktestTrade(backtest_id=bt.id, seq=0, symbol="BTC/USDT", side="long", qty=1.0, entry_time=T0,
                                 entry_price=100.0, exit_time=T0 + timedelta(minutes=5), exit_price=101.0, pnl=1.0,
                                 return_pct=1.0, fees=0.0, slippage=0.0, funding=0.0, exit_reason="signal",
                                 bars_held=5))
    ps = PaperStrategy(user_id=a, exchange="demo", symbol="BTC/USDT", timeframe="1m", strategy="sma_cross", params={},
                       config={}, start_at=T0, warmup_from=T0)
    db.session.add(ps)
    db.session.flush()
    db.session.add_all([PaperFill(strategy_id=ps.id, trade_no=0, leg="entry", side="buy", qty=1, price=100.0, fee=0,
                                  time=T0, reason="signal"),
                        PaperFill(strategy_id=ps.id, trade_no=0, leg="exit", side="sell", qty=1, price=102.0, fee=0,
                                  time=T0 + timedelta(minutes=3), reason="signal"),
                        PaperFill(strategy_id=ps.id, trade_no=1, leg="entry", side="buy", qty=1, price=101.0, fee=0,
                                  time=T0 + timedelta(minutes=9), reason="signal")])
    db.session.commit()
    trades = marks.backtest_trades(db.session, a, bt.id, "BTC/USDT")
    assert trades == [{"side": "long", "entry_time": "2025-01-01T00:00:00+00:00", "entry_price": 100.0,
                       "exit_time": "2025-01-01T00:05:00+00:00", "exit_price": 101.0, "return_pct": 1.0}]
    assert marks.backtest_trades(db.session, b, bt.id, "BTC/USDT") == []  # someone else's backtest
    assert marks.backtest_trades(db.session, a, bt.id, "ETH/USDT") == []
    assert marks.backtest_trades(db.session, a, 10 ** 6, "BTC/USDT") == []
    paper = marks.paper_trades(db.session, a, ps.id, "BTC/USDT")
    assert [(t["entry_price"], t["exit_price"]) for t in paper] == [(100.0, 102.0), (101.0, None)]
    assert paper[0]["return_pct"] == pytest.approx(2.0)
    assert marks.paper_trades(db.session, b, ps.id, "BTC/USDT") == []
    # the series a link to the chart opens on: the owner's only
    series = {"exchange": "demo", "symbol": "BTC/USDT", "timeframe": "1m"}
    assert marks.trade_source(db.session, a, "backtest", bt.id) == series
    assert marks.trade_source(db.session, a, "paper", ps.id) == series
    assert marks.trade_source(db.session, b, "backtest", bt.id) is None
    assert marks.trade_source(db.session, b, "paper", ps.id) is None
    assert marks.trade_source(db.session, None, "backtest", bt.id) is None
    assert marks.trade_source(db.session, a, "backtest", 10 ** 6) is None


def test_p_up_of_the_champion_version_only(users):
    db.session.add_all([Prediction(exchange="demo", symbol="BTC/USDT", timeframe="1h", bar_time=T0 + timedelta(hours=k),
                                   model_version=v, p_up=0.5 + k / 100 + v / 10) for k in range(3) for v in (1, 2)])
    db.session.commit()
    got = marks.p_up(db.session, "demo", "BTC/USDT", "1h", 2, T0 + timedelta(hours=1))
    assert [round(p["p_up"], 3) for p in got] == [0.71, 0.72]
    assert marks.p_up(db.session, "demo", "BTC/USDT", "1h", None, T0) == []


def test_saved_layout_round_trips_and_a_bad_one_is_refused(users):
    a, _ = users
    assert store.load(db.session, a) is None
    lay = layouts.default_layout()
    lay["count"] = 2
    store.save(db.session, a, lay)
    db.session.commit()
    assert layouts.parse_layout(store.load(db.session, a)) == (lay, None)
    lay["count"] = 4
    store.save(db.session, a, lay)
    db.session.commit()
    assert store.load(db.session, a)["count"] == 4
    with pytest.raises(layouts.LayoutError, match="count"):
        store.save(db.session, a, {**lay, "count": 3})
    db.session.rollback()
    assert store.load(db.session, a)["count"] == 4
