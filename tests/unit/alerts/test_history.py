"""The event history: searchable, filterable by delivery status (in the query, before the limit), each
event with its deliveries and every attempt; rule statistics per channel."""
from datetime import datetime, timedelta, timezone

from app.alerts import history, rules, store
from app.alerts.delivery import Outcome, claim, record
from app.alerts.evaluate import Firing


def test_history_filters_by_delivery_status_before_the_limit_and_lists_every_attempt(app):
    from app.auth.users import create_user
    from app.extensions import db

    now = datetime.now(timezone.utc)
    with app.app_context():
        uid = create_user("h@example.com", "correct-horse-battery").id
        r = rules.save_rule(db.session, uid, {"name": "r", "symbol": "BTC/USDT", "timeframe": "1h",
                                              "kind": "price_above", "params": {"level": 5},
                                              "channels": ["inapp", "webhook"], "frequency": "every_time"},
                            exchange="demo", symbols=["BTC/USDT"])
        bar = datetime(2026, 1, 1, tzinfo=timezone.utc)
        made = [store.record_firings(db.session, "demo", [Firing(r.id, uid, "BTC/USDT", "1h", bar + timedelta(hours=k),
                                                                 bar + timedelta(hours=k + 1), 6.0, f"fired {k}", False,
                                                                 False, ("inapp", "webhook"))], now)[0]
                for k in range(3)]
        outcomes = [[Outcome(False, True, 500, "HTTP 500"), Outcome(False, False, 404, "HTTP 404")],  # -> failed
                    [Outcome(True, code=200)], [Outcome(True, code=200)]]
        for c, tries in zip(made, outcomes):
            did = c["deliveries"]["webhook"]
            for i, out in enumerate(tries):
                claim(db.session, did, f"job-{did}-{i}", now)
                record(db.session, did, out, now, now, final=i == len(tries) - 1)
        db.session.commit()
        failed = history.events(db.session, uid, channel_status="failed", limit=1)  # two newer events were sent
        assert [e["message"] for e in failed] == ["fired 0"]
        [d] = failed[0]["deliveries"]
        assert d["status"] == "failed" and [(a["status"], a["response_code"]) for a in d["attempts"]] == \
            [("retry", 500), ("failed", 404)]
        assert [e["message"] for e in history.events(db.session, uid, search="FIRED 2")] == ["fired 2"]
        assert len(history.events(db.session, uid, channel_status="sent")) == 2
        stats = history.rule_stats(db.session, uid)
        assert stats[r.id]["triggers"] == 3 and stats[r.id]["success"] == {"webhook": (2, 3)}
        from app.alerts.kinds import describe
        from app.figures.alerts import rule_rows

        [row] = rule_rows(rules.user_rules(db.session, uid), stats, describe, now)
        assert row["triggers"] == 3 and row["last_fired"] and row["delivered"] == "webhook 2/3 (67 %)"
        db.session.remove()


def test_the_sweep_picks_up_lost_deliveries_but_leaves_a_backoff_retry_alone(app):
    from app.auth.users import create_user
    from app.extensions import db

    now = datetime.now(timezone.utc)
    with app.app_context():
        uid = create_user("p@example.com", "correct-horse-battery").id
        r = rules.save_rule(db.session, uid, {"name": "r", "symbol": "BTC/USDT", "timeframe": "1h",
                                              "kind": "price_above", "params": {"level": 5},
                                              "channels": ["inapp", "webhook", "telegram", "email"]},
                            exchange="demo", symbols=["BTC/USDT"])
        bar = datetime(2026, 1, 1, tzinfo=timezone.utc)
        [c] = store.record_firings(db.session, "demo", [Firing(r.id, uid, "BTC/USDT", "1h", bar, bar + timedelta(hours=1),
                                                               6.0, "m", False, False,
                                                               ("inapp", "webhook", "telegram", "email"))],
                                   now - timedelta(hours=1))
        lost, waiting, stale = c["deliveries"]["webhook"], c["deliveries"]["telegram"], c["deliveries"]["email"]
        for did, claimed in ((waiting, now - timedelta(minutes=3)), (stale, now - timedelta(minutes=30))):
            claim(db.session, did, f"job-{did}", claimed)
            record(db.session, did, Outcome(False, True, 500, "HTTP 500"), claimed, claimed, final=False)
        db.session.commit()
        cut = now - timedelta(minutes=15)
        assert store.pending_deliveries(db.session, older_than=now - timedelta(minutes=1), retried_before=cut) == \
            sorted([lost, stale])
        assert store.pending_deliveries(db.session) == sorted([lost, waiting, stale])
        db.session.remove()
