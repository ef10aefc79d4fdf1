"""Notification settings, transaction updates and CSV import, and model versions over the API on
PostgreSQL: the Alerts and Portfolio pages' checks, the webhook secret write-only, ``trade`` to write,
another user's row a 404, a refusal (or a rate-limited request) writes nothing."""
from __future__ import annotations

import json

import pytest

from tests.conftest import dispose, make_settings, migrate_app
from tests.integration.api.conftest import bearer, count_rows, new_token

pytestmark = pytest.mark.integration
S = "/api/v1/alerts/settings"
P = "/api/v1/portfolio"
SECRET = "s3cret-s3cret-s3cret"
CSV = ("time,kind,asset,quantity,price,fee,note\n"
       "2026-01-01T00:00:00Z,deposit,USDT,10000,,,\n"
       "2026-01-02T00:00:00Z,buy,BTC/USDT,0.1,40000,4,first\n")


def _stored_settings(app, user_id):
    from app.extensions import db
    from app.models.alert import NotificationSettings

    with app.app_context():
        row = db.session.get(NotificationSettings, user_id)
        return None if row is None else (row.timezone, row.email, row.webhook_url, row.webhook_secret_enc)


def test_settings_read_update_and_the_secret_is_write_only(resource_app):
    from app.alerts.secrets import decrypt, fernet_key

    client = resource_app.test_client()
    auth, uid, _ = new_token(resource_app)
    empty = client.get(S, headers=auth).get_json()
    assert empty["timezone"] == "UTC" and empty["webhook_secret_set"] is False and empty["updated_at"] is None
    form = {"timezone": "Europe/Berlin", "quiet_start": "22:00", "quiet_end": "07:00", "email": "me@example.com",
            "webhook_format": "slack", "webhook_secret": SECRET}  # (a webhook URL would be resolved: loopback only here)
    resp = client.put(S, json=form, headers=auth)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert (body["timezone"], body["quiet_start"], body["webhook_format"], body["webhook_secret_set"]) == (
        "Europe/Berlin", "22:00", "slack", True)
    assert SECRET not in resp.get_data(as_text=True) and "webhook_secret" not in body
    assert SECRET not in client.get(S, headers=auth).get_data(as_text=True)
    settings = resource_app.config["CW_SETTINGS"]
    stored = _stored_settings(resource_app, uid)
    assert stored[3] != SECRET and decrypt(fernet_key(settings.alerts_key, settings.secret_key), stored[3]) == SECRET
    # without a secret the stored one stays (as on the page)
    kept = client.put(S, json={**form, "webhook_secret": None, "email": None}, headers=auth).get_json()
    assert kept["webhook_secret_set"] is True and kept["email"] is None
    assert _stored_settings(resource_app, uid)[3] == stored[3]
    # another user sees their own (empty) settings, never these
    other, other_id, _ = new_token(resource_app)
    assert client.get(S, headers=other).get_json()["timezone"] == "UTC"
    assert _stored_settings(resource_app, other_id) is None


@pytest.mark.parametrize("change,field", [
    ({"timezone": "Mars/Olympus"}, "json.timezone"),
    ({"quiet_start": "22:00"}, "json.quiet_end"),
    ({"email": "nobody"}, "json.email"),
    ({"webhook_url": "ftp://example.com/x"}, "json.webhook_url"),
    ({"webhook_url": "http://127.0.0.1:9/hook"}, "json.webhook_url"),  # the page's SSRF check: no loopback
    ({"webhook_format": "xml"}, "json.webhook_format"),
    ({"webhook_secret": "short"}, "json.webhook_secret"),
    ({"telegram_chat_id": "not a chat"}, "json.telegram_chat_id"),
    ({"alerts_paused": "maybe"}, "json.alerts_paused"),
])
def test_refused_settings_name_the_field_and_change_nothing(resource_app, change, field):
    client = resource_app.test_client()
    auth, uid, _ = new_token(resource_app)
    assert client.put(S, json={"timezone": "Asia/Tokyo"}, headers=auth).status_code == 200
    before = _stored_settings(resource_app, uid)
    resp = client.put(S, json={"timezone": "Asia/Tokyo", **change}, headers=auth)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert resp.get_json()["errors"][0]["field"] == field, resp.get_json()
    assert _stored_settings(resource_app, uid) == before


def test_settings_writes_need_trade(resource_app):
    client = resource_app.test_client()
    reader, uid, _ = new_token(resource_app, scopes=("read",))
    viewer, viewer_id, _ = new_token(resource_app, scopes=("read", "trade"))
    with resource_app.app_context():  # a trader's token, then the user is made a viewer: trade no longer applies
        from app.extensions import db
        from app.models.user import User

        db.session.get(User, viewer_id).role = "viewer"
        db.session.commit()
    for auth, who in ((reader, uid), (viewer, viewer_id)):
        assert client.get(S, headers=auth).status_code == 200
        resp = client.put(S, json={"timezone": "Asia/Tokyo"}, headers=auth)
        assert resp.status_code == 403 and "'trade'" in resp.get_json()["detail"]
        assert _stored_settings(resource_app, who) is None


def test_update_a_transaction_checks_the_ledger_and_the_owner(resource_app):
    from app.models.portfolio import PortfolioTransaction

    client = resource_app.test_client()
    auth, _uid, _ = new_token(resource_app)
    client.post(f"{P}/transactions", json={"time": "2026-01-01T00:00:00+00:00", "kind": "deposit",
                                           "quantity": 10_000, "portfolio": "spot"}, headers=auth)
    buy = client.post(f"{P}/transactions", json={"time": "2026-01-02T00:00:00+00:00", "kind": "buy", "asset": "BTC/USDT",
                                                 "quantity": 0.1, "price": 40_000, "portfolio": "spot"},
                      headers=auth).get_json()
    sell = client.post(f"{P}/transactions", json={"time": "2026-01-03T00:00:00+00:00", "kind": "sell",
                                                  "asset": "BTC/USDT", "quantity": 0.1, "price": 41_000,
                                                  "portfolio": "spot"}, headers=auth).get_json()
    url = f"{P}/transactions/{buy['id']}"
    changed = client.put(url, json={"time": "2026-01-02T00:00:00+00:00", "kind": "buy", "asset": "BTC/USDT",
                                    "quantity": 0.2, "price": 39_000, "fee": 2, "note": "fixed"}, headers=auth)
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert (changed.get_json()["id"], changed.get_json()["quantity"], changed.get_json()["note"]) == (buy["id"], 0.2,
                                                                                                     "fixed")
    rows = client.get(f"{P}/transactions?portfolio=spot", headers=auth).get_json()["transactions"]
    assert [(t["id"], t["quantity"], t["price"]) for t in rows if t["id"] == buy["id"]] == [(buy["id"], 0.2, 39_000)]
    # a smaller buy than the later sell: the ledger would go short, refused, unchanged
    short = client.put(url, json={"time": "2026-01-02T00:00:00+00:00", "kind": "buy", "asset": "BTC/USDT",
                                  "quantity": 0.01, "price": 39_000}, headers=auth)
    assert short.status_code == 422 and short.get_json()["errors"][0]["field"].startswith("json.")
    bad = client.put(url, json={"time": "2026-01-02T00:00:00+00:00", "kind": "gift", "quantity": 1}, headers=auth)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "json.kind"
    missing = client.put(url, json={"kind": "buy", "quantity": 1}, headers=auth)
    assert missing.status_code == 422 and missing.get_json()["errors"][0]["field"] == "json.time"
    stranger, _, _ = new_token(resource_app)
    body = {"time": "2026-01-02T00:00:00+00:00", "kind": "deposit", "quantity": 1}
    assert client.put(url, json=body, headers=stranger).status_code == 404
    assert client.put(f"{P}/transactions/2147483647", json=body, headers=auth).status_code == 404
    reader, _, _ = new_token(resource_app, scopes=("read",))
    assert client.put(url, json=body, headers=reader).status_code == 403
    rows = client.get(f"{P}/transactions?portfolio=spot", headers=auth).get_json()["transactions"]
    assert [(t["kind"], t["quantity"]) for t in rows] == [("deposit", 10_000), ("buy", 0.2), ("sell", 0.1)]
    assert sell["id"] in {t["id"] for t in rows}
    assert count_rows(resource_app, PortfolioTransaction) >= 3


def test_csv_import_whole_file_or_partial_through_the_pages_parser(resource_app):
    client = resource_app.test_client()
    auth, _uid, _ = new_token(resource_app)
    done = client.post(f"{P}/transactions/import", json={"csv": CSV, "portfolio": "imported"}, headers=auth)
    assert done.status_code == 201, done.get_data(as_text=True)
    assert done.get_json() == {"portfolio": "imported", "imported": 2, "skipped": []}
    rows = client.get(f"{P}/transactions?portfolio=imported", headers=auth).get_json()["transactions"]
    assert [(t["kind"], t["asset"], t["note"]) for t in rows] == [("deposit", "USDT", ""), ("buy", "BTC/USDT", "first")]

    bad = CSV + "2026-01-03T00:00:00Z,sell,BTC/USDT,5,40000,,\n2026-01-04T00:00:00Z,gift,USDT,1,,,\n"
    refused = client.post(f"{P}/transactions/import", json={"csv": bad, "portfolio": "other"}, headers=auth)
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    errors = refused.get_json()["errors"]
    assert {e["field"] for e in errors} == {"json.csv"} and [e["message"][:6] for e in errors] == ["line 4", "line 5"]
    assert client.get(f"{P}/transactions?portfolio=other", headers=auth).get_json()["transactions"] == []

    partial = client.post(f"{P}/transactions/import", json={"csv": bad, "portfolio": "other", "partial": True},
                          headers=auth).get_json()
    assert partial["imported"] == 2 and [s["line"] for s in partial["skipped"]] == [4, 5]
    assert len(client.get(f"{P}/transactions?portfolio=other", headers=auth).get_json()["transactions"]) == 2
    for body, field in (({"csv": "a,b\n1,2\n"}, "json.csv"), ({"csv": ""}, "json.csv"), ({}, "json.csv"),
                        ({"csv": CSV, "portfolio": "no/slash"}, "portfolio"), ({"csv": CSV, "partial": "x"},
                                                                                "json.partial")):
        resp = client.post(f"{P}/transactions/import", json=body, headers=auth)
        assert resp.status_code == 422 and resp.get_json()["errors"][0]["field"] == field, (body, resp.get_json())
    assert len(client.get(f"{P}/transactions?portfolio=imported", headers=auth).get_json()["transactions"]) == 2
    reader, reader_id, _ = new_token(resource_app, scopes=("read",))
    assert client.post(f"{P}/transactions/import", json={"csv": CSV}, headers=reader).status_code == 403
    assert client.get(f"{P}/transactions", headers=reader).get_json()["transactions"] == []


def _model(app, symbol: str, timeframe: str, version: int, accuracy: float) -> None:
    from ml.registry import Registry, slug

    reg = Registry(app.config["CW_SETTINGS"].model_dir)
    path = reg.root / slug(symbol) / timeframe / f"v{version}"
    path.mkdir(parents=True)
    summary = {"lstm": {"n": 500, "accuracy": accuracy, "log_loss": 0.6},
               "base_rate": {"accuracy": 0.5, "log_loss": 0.69}, "persistence": {"accuracy": 0.5, "log_loss": 0.7}}
    (path / "meta.json").write_text(json.dumps({"version": version, "trained_until": "2026-01-01T00:00:00+00:00",
                                                "walk_forward": {"summary": summary}}))


def test_model_versions_list_newest_first_with_the_champion(resource_app):
    from ml.registry import Registry

    client = resource_app.test_client()
    auth, _uid, _ = new_token(resource_app, scopes=("read",))
    assert client.get("/api/v1/predictions/models?symbol=ETH/USDT", headers=auth).get_json() == {"models": []}
    _model(resource_app, "BTC/USDT", "1h", 1, 0.55)
    _model(resource_app, "BTC/USDT", "1h", 2, 0.57)
    Registry(resource_app.config["CW_SETTINGS"].model_dir).promote("BTC/USDT", "1h", 1)
    rows = client.get("/api/v1/predictions/models?symbol=BTC/USDT", headers=auth).get_json()["models"]
    assert [(r["version"], r["champion"], r["oos_accuracy"]) for r in rows] == [(2, False, 0.57), (1, True, 0.55)]
    assert rows[0]["trained_until"] == "2026-01-01 00:00" and rows[0]["timeframe"] == "1h"
    every = client.get("/api/v1/predictions/models", headers=auth).get_json()["models"]
    assert {(r["symbol"], r["version"]) for r in every} == {("BTC/USDT", 1), ("BTC/USDT", 2)}
    unknown = client.get("/api/v1/predictions/models?symbol=NOPE/USDT", headers=auth)
    assert unknown.status_code == 404 and unknown.get_json()["errors"][0]["field"] == "query.symbol"
    assert client.get("/api/v1/predictions/models?symbol=x", headers=auth).status_code == 422
    assert client.get("/api/v1/predictions/models").status_code == 401


def test_new_writes_are_rate_limited_and_a_refused_one_writes_nothing(fresh_pg_url, redis_url):
    import uuid

    from app.auth.tokens import create_token
    from app.auth.users import create_user
    from app.extensions import db
    from app.market.seed import seed_demo
    from app.models.portfolio import PortfolioTransaction
    from app.server import create_server

    server = create_server(make_settings(database_url=fresh_pg_url, redis_url=redis_url, api_rate_limit="2 per minute",
                                         redis_prefix=f"cwrl{uuid.uuid4().hex[:6]}"))
    migrate_app(server)
    try:
        with server.app_context():
            seed_demo(db.session.connection(), server.config["CW_SETTINGS"])
            db.session.commit()
            user = create_user("rl-import@example.com", "correct-horse-battery")
            _r, token = create_token(db.session, user, "a", ["read", "trade"], 1)
        client = server.test_client()
        seen = [client.post(f"{P}/transactions/import", json={"csv": CSV, "portfolio": f"p{i}"}, headers=bearer(token))
                for i in range(3)]
        assert [r.status_code for r in seen] == [201, 201, 429]
        assert seen[-1].mimetype == "application/problem+json" and int(seen[-1].headers["Retry-After"]) > 0
        assert count_rows(server, PortfolioTransaction) == 4  # the third file was not imported
        # each resource keeps its own bucket per token: the settings' third write in the minute is refused
        zones = ["Asia/Tokyo", "Europe/Paris", "America/Chicago"]
        assert [client.put(S, json={"timezone": z}, headers=bearer(token)).status_code for z in zones] == [200, 200, 429]
        with server.app_context():
            from app.models.alert import NotificationSettings

            assert db.session.scalar(db.select(NotificationSettings.timezone)) == "Europe/Paris"
    finally:
        dispose(server)
