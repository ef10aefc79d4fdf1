"""Rules and settings storage on the app's SQLite: owner-scoped, validated before anything changes;
events unique per rule, symbol and bar."""
from datetime import datetime, timedelta, timezone

import pytest

from app.alerts import history, rules, store
from app.alerts.errors import AlertInputError
from app.alerts.evaluate import Firing

FORM = {"name": "r", "symbol": "BTC/USDT", "timeframe": "1h", "kind": "price_above", "params": {"level": 5},
        "channels": ["inapp", "webhook"]}


def _users(app):
    from app.auth.users import create_user

    with app.app_context():
        return (create_user("a@example.com", "correct-horse-battery").id,
                create_user("b@example.com", "correct-horse-battery").id)


def test_rules_are_owner_scoped_and_invalid_edits_change_nothing(app):
    from app.extensions import db

    a, b = _users(app)
    with app.app_context():
        r = rules.save_rule(db.session, a, FORM, exchange="demo", symbols=["BTC/USDT"])
        db.session.commit()
        with pytest.raises(AlertInputError) as exc:
            rules.save_rule(db.session, a, {**FORM, "cooldown_s": -3}, exchange="demo", symbols=["BTC/USDT"],
                            rule_id=r.id)
        assert exc.value.field == "cooldown_s"
        db.session.rollback()
        assert rules.own_rule(db.session, a, r.id).cooldown_s == 0
        for action in (lambda: rules.set_paused(db.session, b, r.id, True), lambda: rules.delete_rule(db.session, b, r.id),
                       lambda: rules.save_rule(db.session, b, FORM, exchange="demo", symbols=["BTC/USDT"], rule_id=r.id)):
            with pytest.raises(AlertInputError, match="does not exist"):
                action()
        rules.set_paused(db.session, a, r.id, True)
        db.session.commit()
        assert rules.own_rule(db.session, a, r.id).paused
        assert store.active_rules(db.session, "demo", "BTC/USDT", datetime.now(timezone.utc)) == []
        rules.delete_rule(db.session, a, r.id)
        db.session.commit()
        assert rules.user_rules(db.session, a) == []


def test_a_firing_is_recorded_once_and_quiet_hours_suppress_outside_channels(app):
    from app.extensions import db

    a, _ = _users(app)
    now = datetime.now(timezone.utc)
    with app.app_context():
        r = rules.save_rule(db.session, a, {**FORM, "frequency": "once"}, exchange="demo", symbols=["BTC/USDT"])
        bar = datetime(2026, 1, 1, tzinfo=timezone.utc)
        f = Firing(r.id, a, "BTC/USDT", "1h", bar, bar + timedelta(hours=1), 6.0, "r fired", False, True,
                   ("inapp", "webhook"))
        [created] = store.record_firings(db.session, "demo", [f], now)
        assert list(created["deliveries"]) == ["webhook"]
        assert store.record_firings(db.session, "demo", [f], now) == []  # the same (rule, symbol, bar)
        db.session.expire_all()  # the update ran in Core, past the ORM identity map
        assert rules.own_rule(db.session, a, r.id).finished  # a "once" rule is done
        quiet = Firing(r.id, a, "BTC/USDT", "1h", bar + timedelta(hours=1), bar + timedelta(hours=2), 6.0, "q",
                       True, False, ("inapp", "webhook"))
        [q] = store.record_firings(db.session, "demo", [quiet], now)
        assert q["deliveries"] == {}  # stored as suppressed: nothing to send
        db.session.commit()
        rows = history.events(db.session, a)
        assert [e["message"] for e in rows] == ["q", "r fired"]
        assert [d["status"] for d in rows[0]["deliveries"]] == ["suppressed"]
        assert store.last_fired(db.session, [store._spec(rules.own_rule(db.session, a, r.id))], "BTC/USDT") == \
            {(r.id, "BTC/USDT"): bar + timedelta(hours=2)}
        n, newest = history.unread(db.session, a)
        assert n == 2 and newest["message"] == "q"
        history.mark_read(db.session, a)
        assert history.unread(db.session, a)[0] == 0
        stats = history.rule_stats(db.session, a)
        assert stats[r.id]["triggers"] == 2 and stats[r.id]["success"] == {"webhook": (0, 1)}
