"""Alert rules (CRUD) and events over the API on PostgreSQL: the Alerts page's validation, ``trade`` to
write and ``read`` to read, another user's rule a 404, a refused rule writes nothing."""
from __future__ import annotations

import pytest

from tests.integration.api.conftest import count_rows, new_token

pytestmark = pytest.mark.integration
RULE = {"name": "BTC above 1", "symbol": "BTC/USDT", "timeframe": "1h", "kind": "price_above",
        "params": {"level": 1.0}, "channels": ["inapp"], "frequency": "once_per_bar", "cooldown_s": 60}


def _rules(app) -> int:
    from app.models.alert import AlertRule

    return count_rows(app, AlertRule)


def test_rule_create_read_update_delete(resource_app):
    client = resource_app.test_client()
    auth, uid, _ = new_token(resource_app)
    created = client.post("/api/v1/alerts/rules", json=RULE, headers=auth)
    assert created.status_code == 201, created.get_data(as_text=True)
    rule = created.get_json()
    assert created.headers["Location"] == rule["url"] == f"/api/v1/alerts/rules/{rule['id']}"
    assert (rule["symbol"], rule["kind"], rule["params"], rule["paused"]) == ("BTC/USDT", "price_above",
                                                                            {"level": 1.0}, False)
    assert rule["created_at"].endswith("+00:00") and rule["exchange"]
    assert client.get(rule["url"], headers=auth).get_json() == rule
    assert [r["id"] for r in client.get("/api/v1/alerts/rules", headers=auth).get_json()["rules"]] == [rule["id"]]

    put = client.put(rule["url"], json={**RULE, "symbol": None, "params": {"level": 2.5}, "paused": True},
                     headers=auth)
    assert put.status_code == 200, put.get_data(as_text=True)
    assert (put.get_json()["symbol"], put.get_json()["params"], put.get_json()["paused"]) == (None, {"level": 2.5}, True)
    with resource_app.app_context():
        from app.alerts.rules import own_rule
        from app.extensions import db

        stored = own_rule(db.session, uid, rule["id"])
        assert (stored.symbol, stored.params, stored.paused) == (None, {"level": 2.5}, True)
        db.session.rollback()

    assert client.delete(rule["url"], headers=auth).status_code == 204
    assert client.get(rule["url"], headers=auth).status_code == 404
    assert client.get("/api/v1/alerts/rules", headers=auth).get_json()["rules"] == []


@pytest.mark.parametrize("change,field", [
    ({"kind": "no_such_kind"}, "json.kind"),
    ({"params": {"level": "high"}}, "json.params.level"),
    ({"params": {"nope": 1}}, "json.params.nope"),
    ({"symbol": "DOGE/NOPE"}, "json.symbol"),
    ({"timeframe": "7m"}, "json.timeframe"),
    ({"channels": ["pigeon"]}, "json.channels"),
    ({"quiet_start": "22:00"}, "json.quiet_end"),
    ({"expires_at": "2001-01-01T00:00:00+00:00"}, "json.expires_at"),
    ({"cooldown_s": "soon"}, "json.cooldown_s"),
    ({"name": ""}, "json.name"),
])
def test_refused_rule_names_the_field_and_writes_nothing(resource_app, change, field):
    client = resource_app.test_client()
    auth, _uid, _ = new_token(resource_app)
    before = _rules(resource_app)
    resp = client.post("/api/v1/alerts/rules", json={**RULE, **change}, headers=auth)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json", resp.get_data(as_text=True)
    assert field in [e["field"] for e in resp.get_json()["errors"]]
    assert _rules(resource_app) == before


def test_refused_update_changes_nothing(resource_app):
    client = resource_app.test_client()
    auth, _uid, _ = new_token(resource_app)
    rule = client.post("/api/v1/alerts/rules", json=RULE, headers=auth).get_json()
    resp = client.put(rule["url"], json={**RULE, "name": "renamed", "kind": "rsi_above", "params": {"level": 500}},
                      headers=auth)
    assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == "json.params.level"
    after = client.get(rule["url"], headers=auth).get_json()
    assert (after["name"], after["kind"]) == (RULE["name"], RULE["kind"])


def test_another_users_rule_is_404(resource_app):
    client = resource_app.test_client()
    owner, _, _ = new_token(resource_app)
    other, _, _ = new_token(resource_app)
    rule = client.post("/api/v1/alerts/rules", json=RULE, headers=owner).get_json()
    assert client.get(rule["url"], headers=other).status_code == 404
    assert client.put(rule["url"], json={**RULE, "name": "mine now"}, headers=other).status_code == 404
    assert client.delete(rule["url"], headers=other).status_code == 404
    assert client.get("/api/v1/alerts/rules", headers=other).get_json()["rules"] == []
    assert client.get(rule["url"], headers=owner).get_json()["name"] == RULE["name"]  # untouched


def test_reading_needs_read_and_writing_needs_trade(resource_app):
    client = resource_app.test_client()
    writer, _, _ = new_token(resource_app)
    rule = client.post("/api/v1/alerts/rules", json=RULE, headers=writer).get_json()
    reader, _, _ = new_token(resource_app, role="viewer", scopes=("read",))
    assert client.get("/api/v1/alerts/rules", headers=reader).status_code == 200
    before = _rules(resource_app)
    resp = client.post("/api/v1/alerts/rules", json=RULE, headers=reader)
    assert resp.status_code == 403 and "'trade' scope" in resp.get_json()["detail"]
    trader_read_only, _, _ = new_token(resource_app, scopes=("read",))
    assert client.post("/api/v1/alerts/rules", json=RULE, headers=trader_read_only).status_code == 403
    assert client.delete(rule["url"], headers=writer | {}).status_code == 204
    assert _rules(resource_app) == before - 1


def test_events_are_the_owners_only_newest_first(resource_app):
    from datetime import datetime, timedelta, timezone

    from app.extensions import db
    from app.models.alert import AlertAttempt, AlertDelivery, AlertEvent

    client = resource_app.test_client()
    auth, uid, _ = new_token(resource_app)
    other, other_uid, _ = new_token(resource_app)
    mine = client.post("/api/v1/alerts/rules", json=RULE, headers=auth).get_json()
    theirs = client.post("/api/v1/alerts/rules", json=RULE, headers=other).get_json()
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with resource_app.app_context():
        for i, (rule_id, user_id) in enumerate([(mine["id"], uid), (mine["id"], uid), (theirs["id"], other_uid)]):
            ev = AlertEvent(rule_id=rule_id, user_id=user_id, exchange="demo", symbol="BTC/USDT", timeframe="1h",
                            bar_time=t0 + timedelta(hours=i), fired_at=t0 + timedelta(hours=i, minutes=1),
                            value=1.0 + i, message=f"event {i}")
            db.session.add(ev)
            db.session.flush()
            delivery = AlertDelivery(event_id=ev.id, channel="webhook", status="sent", attempts=1)
            db.session.add(delivery)
            db.session.flush()
            db.session.add(AlertAttempt(delivery_id=delivery.id, status="sent", response_code=200))
        db.session.commit()
    events = client.get("/api/v1/alerts/events", headers=auth).get_json()["events"]
    assert [e["message"] for e in events] == ["event 1", "event 0"]
    assert events[0]["deliveries"] == [{"channel": "webhook", "status": "sent", "attempts": 1, "error": None,
                                        "finished_at": None}]
    assert events[0]["bar_time"] == "2026-01-01T01:00:00+00:00" and events[0]["read"] is False
    assert [e["message"] for e in client.get("/api/v1/alerts/events?status=failed", headers=auth)
            .get_json()["events"]] == []
    bad = client.get("/api/v1/alerts/events?limit=0", headers=auth)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "query.limit"


def test_a_market_added_to_the_stored_watch_list_can_be_named_by_a_rule(resource_app):
    """The API offers what the Alerts page offers: the stored watch-list, not only the environment's."""
    from app.audit.log import Actor
    from app.extensions import db
    from app.market import watchlist
    from app.market.watchlist import Market

    client = resource_app.test_client()
    auth, _uid, _ = new_token(resource_app, scopes=("read", "trade"))
    rule = {**RULE, "name": "XRP above 1", "symbol": "XRP/USDT"}
    refused = client.post("/api/v1/alerts/rules", json=rule, headers=auth)
    assert refused.status_code == 422 and "symbol" in refused.get_data(as_text=True)
    with resource_app.app_context():
        settings = resource_app.config["CW_SETTINGS"]
        watchlist.add(db.session, settings, Market("demo", "XRP/USDT", ("1h",)),
                      Actor("boss@example.com", None, None), listed=None)
        db.session.commit()
    created = client.post("/api/v1/alerts/rules", json=rule, headers=auth)
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["symbol"] == "XRP/USDT"
