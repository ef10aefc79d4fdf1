"""Every alerts, portfolio and admin operation refuses a missing, malformed, unknown, expired or revoked
token with a 401 problem (and writes nothing); batches and walk-forward go through the backtests resource."""
from __future__ import annotations

import re

import pytest

from tests.integration.api.conftest import count_rows, new_token

pytestmark = pytest.mark.integration
NEW = ("/api/v1/alerts", "/api/v1/portfolio", "/api/v1/admin", "/api/v1/predictions")


def _operations(app) -> list[tuple[str, str]]:
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    ops = [(m.upper(), re.sub(r"\{[a-z_]*id\}", "1", p).replace("{name}", "main"))
           for p, item in spec["paths"].items() if p.startswith(NEW) for m in item if m != "parameters"]
    assert len(ops) >= 38  # the check cannot pass vacuously (issue 19: settings, import, models, admin actions)
    return ops


def _kill(app, token_id: int, how: str) -> None:
    from datetime import timedelta

    from app.auth.tokens import revoke_token
    from app.extensions import db
    from app.models.api_token import ApiToken
    from app.models.user import utcnow

    with app.app_context():
        row = db.session.get(ApiToken, token_id)
        if how == "expired":
            row.expires_at = utcnow() - timedelta(seconds=1)
        else:
            assert revoke_token(db.session, row.user_id, token_id)
        db.session.commit()


def test_every_new_operation_refuses_bad_tokens(resource_app):
    from app.models.alert import AlertRule
    from app.models.portfolio import PaperOrder, PaperStrategy, PortfolioTransaction

    client = resource_app.test_client()
    expired, _, expired_id = new_token(resource_app, role="admin", scopes=("read", "trade", "admin"))
    revoked, _, revoked_id = new_token(resource_app, role="admin", scopes=("read", "trade", "admin"))
    _kill(resource_app, expired_id, "expired")
    _kill(resource_app, revoked_id, "revoked")
    headers = {"missing": {}, "not bearer": {"Authorization": "Basic dXNlcjpwYXNz"},
               "unknown": {"Authorization": "Bearer cw_" + "x" * 43}, "expired": expired, "revoked": revoked}
    models = (AlertRule, PaperOrder, PaperStrategy, PortfolioTransaction)
    before = [count_rows(resource_app, m) for m in models]
    for method, url in _operations(resource_app):
        for label, auth in headers.items():
            resp = client.open(url, method=method, json={} if method in ("POST", "PUT", "PATCH") else None,
                               headers=auth)
            assert resp.status_code == 401, (label, method, url, resp.status_code)
            assert resp.mimetype == "application/problem+json" and resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert [count_rows(resource_app, m) for m in models] == before


def test_batches_and_walk_forward_are_submitted_through_the_api(resource_app):
    client = resource_app.test_client()
    auth, _uid, _ = new_token(resource_app)
    form = {"symbols": ["BTC/USDT", "ETH/USDT"], "timeframe": "15m", "start": "2000-01-01", "end": "2100-01-01",
            "strategy": "ma_cross", "params": {"fast": [5, 8], "slow": 20}}
    batch = client.post("/api/v1/backtests", json=form, headers=auth)
    assert batch.status_code == 202, batch.get_data(as_text=True)
    assert len(batch.get_json()["ids"]) == 4 and batch.get_json()["batch_id"]
    wf = client.post("/api/v1/backtests", json={**form, "symbols": ["BTC/USDT"], "params": {"fast": [5, 8], "slow": 20},
                                                "mode": "walk_forward", "train_bars": 100, "test_bars": 50},
                     headers=auth)
    assert wf.status_code == 202, wf.get_data(as_text=True)
    runs = [client.get(f"/api/v1/backtests/{i}", headers=auth).get_json() for i in wf.get_json()["ids"]]
    assert runs and {r["kind"] for r in runs} == {"walk_forward"} and {r["status"] for r in runs} <= {"queued",
                                                                                                       "running"}
