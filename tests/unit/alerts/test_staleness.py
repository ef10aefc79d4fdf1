"""Stale data: a watched series whose newest bar is older than its schedule says is flagged by the
sweep and in the rule list."""
from datetime import datetime, timedelta, timezone

import pandas as pd

from app.alerts.staleness import expected_last_open, is_stale, missing_bars, stale_series

NOW = datetime(2026, 3, 1, 10, 30, tzinfo=timezone.utc)


def test_expected_bar_and_missing_bars_per_timeframe():
    assert expected_last_open("1h", NOW) == datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
    assert expected_last_open("1m", NOW) == datetime(2026, 3, 1, 10, 29, tzinfo=timezone.utc)
    assert expected_last_open("1d", NOW) == datetime(2026, 2, 28, tzinfo=timezone.utc)
    assert missing_bars(datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc), "1h", NOW) == 0
    assert missing_bars(datetime(2026, 3, 1, 6, 0, tzinfo=timezone.utc), "1h", NOW) == 3
    assert missing_bars(None, "1h", NOW) is None


def test_a_bar_late_by_one_is_not_stale_two_missing_or_nothing_stored_is():
    assert not is_stale(datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc), "1h", NOW)
    assert not is_stale(datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc), "1h", NOW)  # one bar behind
    assert is_stale(datetime(2026, 3, 1, 7, 0, tzinfo=timezone.utc), "1h", NOW)
    assert is_stale(None, "1h", NOW)
    got = stale_series({("demo", "BTC/USDT", "1h"): datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc),
                        ("demo", "ETH/USDT", "1h"): datetime(2026, 3, 1, 1, 0, tzinfo=timezone.utc),
                        ("demo", "SOL/USDT", "1h"): None}, NOW)
    assert got == {("demo", "ETH/USDT", "1h"): datetime(2026, 3, 1, 1, 0, tzinfo=timezone.utc),
                   ("demo", "SOL/USDT", "1h"): None}


def test_the_sweep_and_the_rule_list_flag_the_rules_whose_data_went_stale(app):
    from app.alerts import history, rules
    from app.alerts.kinds import describe
    from app.extensions import db
    from app.figures.alerts import rule_rows
    from app.market import store
    from tests.fakes.candles import make_candles
    from workers.alerts import sweep
    from workers.queues import runner

    now = datetime.now(timezone.utc)
    last_closed = pd.Timestamp(now).floor("1h") - pd.Timedelta(hours=1)
    with app.app_context():
        from app.auth.users import create_user

        uid = create_user("stale@example.com", "correct-horse-battery").id
        for symbol, end in (("BTC/USDT", last_closed), ("ETH/USDT", last_closed - pd.Timedelta(hours=5))):
            sid = store.get_or_create_series(db.session, "demo", symbol, "1h")
            store.upsert_candles(db.session, sid, make_candles(30, start=(end - pd.Timedelta(hours=29)).isoformat(),
                                                               freq_s=3600, seed=1))
        form = {"name": "r", "timeframe": "1h", "kind": "price_above", "params": {"level": 1e9}, "channels": ["inapp"]}
        for symbol in ("BTC/USDT", "ETH/USDT", "*"):
            rules.save_rule(db.session, uid, {**form, "symbol": symbol}, exchange="demo",
                            symbols=["BTC/USDT", "ETH/USDT"])
        db.session.commit()
        out = sweep()
        runner().wait()
        assert out["stale"] == ["demo:ETH/USDT:1h"] and out["evaluations"] == 2
        mine = rules.user_rules(db.session, uid)
        stale = history.stale_data(db.session, mine, app.config["CW_SETTINGS"].watchlist, now)
        db.session.commit()
        states = {r["symbol"]: r["state"] for r in rule_rows(mine, {}, describe, now, stale)}
        eth_last = (last_closed - pd.Timedelta(hours=5)).strftime("%Y-%m-%d %H:%M")
        assert states == {"BTC/USDT": "active", "ETH/USDT": f"active · stale data (last bar {eth_last})",
                          "watch-list": "active · stale data: ETH/USDT"}
        db.session.remove()
