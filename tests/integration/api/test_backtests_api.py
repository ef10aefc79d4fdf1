"""Backtests over the API on PostgreSQL + a real RQ worker: submit -> 202 -> poll -> result -> reports;
scopes, owner-only reads (404), validation errors naming the field with nothing written or enqueued."""
from __future__ import annotations

import io
import json
import time

import openpyxl
import pandas as pd
import pytest

from tests.integration.api.conftest import bearer

pytestmark = pytest.mark.integration


def _form(**changes):
    form = {"symbols": ["BTC/USDT"], "timeframe": "15m", "start": "2000-01-01", "end": "2100-01-01",
            "strategy": "ma_cross", "params": {"fast": 5, "slow": 20}, "fee_bps": 4, "slippage_bps": 2}
    form.update(changes)
    return form


def _count_backtests(app) -> int:
    from app.extensions import db
    from app.models import Backtest

    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(Backtest))


def _poll(client, url, auth, timeout=120.0):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        body = client.get(url, headers=auth).get_json()
        seen.append((body["status"], body["progress"]))
        if body["status"] in ("finished", "failed"):
            return body, seen
        time.sleep(0.1)
    raise AssertionError(f"not finished: {seen[-5:]}")


def test_submit_poll_result_and_reports(seeded, make_token, rq_worker, fresh_pg_url):
    client = seeded.test_client()
    token, _uid, _ = make_token(scopes=("read", "trade"))
    auth = bearer(token)
    resp = client.post("/api/v1/backtests", json=_form(), headers=auth)
    assert resp.status_code == 202, resp.get_data(as_text=True)
    sub = resp.get_json()
    assert resp.headers["Location"] == sub["url"] == f"/api/v1/backtests/{sub['ids'][0]}"
    assert sub["batch_id"] is None and sub["job_id"] == f"backtest-{sub['ids'][0]}"
    queued = client.get(sub["url"], headers=auth).get_json()
    assert queued["status"] == "queued" and queued["reports"] == {} and queued["metrics"] is None
    rq_worker("backtests", burst=True, database_url=fresh_pg_url).wait(timeout=120)
    done, _seen = _poll(client, sub["url"], auth)
    assert done["status"] == "finished" and done["progress"] == 100 and done["error"] is None
    assert done["metrics"]["n_trades"] > 0 and done["finished_at"].endswith("+00:00")
    listed = client.get("/api/v1/backtests", headers=auth).get_json()["backtests"]
    assert [b["id"] for b in listed] == sub["ids"]

    trades = client.get(done["reports"]["trades.csv"], headers=auth)
    assert trades.status_code == 200 and trades.mimetype == "text/csv"
    assert len(pd.read_csv(io.BytesIO(trades.data))) == done["metrics"]["n_trades"]
    result = json.loads(client.get(done["reports"]["result.json"], headers=auth).data)
    assert result["run"]["id"] == done["id"]
    xlsx = client.get(done["reports"]["report.xlsx"], headers=auth)
    assert openpyxl.load_workbook(io.BytesIO(xlsx.data)).sheetnames
    html = client.get(done["reports"]["tearsheet.html"], headers=auth)
    assert html.mimetype == "text/html" and b"<html" in html.data.lower()
    assert client.get(f"{sub['url']}/reports/secrets.txt", headers=auth).status_code == 404


def test_another_users_backtest_is_404_everywhere(seeded, make_token):
    client = seeded.test_client()
    owner, _u, _ = make_token(scopes=("read", "trade"))
    other, _u2, _ = make_token(scopes=("read", "trade"))
    sub = client.post("/api/v1/backtests", json=_form(), headers=bearer(owner)).get_json()
    theirs = sub["url"]
    assert client.get(theirs, headers=bearer(owner)).status_code == 200
    for url in (theirs, f"{theirs}/reports/trades.csv", "/api/v1/backtests/999999"):
        resp = client.get(url, headers=bearer(other))
        assert resp.status_code == 404 and resp.mimetype == "application/problem+json"
    assert client.get("/api/v1/backtests", headers=bearer(other)).get_json()["backtests"] == []


def test_batch_submit_points_at_the_batch(seeded, make_token):
    client = seeded.test_client()
    token, _uid, _ = make_token(scopes=("read", "trade"))
    resp = client.post("/api/v1/backtests", json=_form(params={"fast": [5, 8], "slow": 20}), headers=bearer(token))
    assert resp.status_code == 202
    sub = resp.get_json()
    assert len(sub["ids"]) == 2 and sub["batch_id"] and sub["url"] == f"/api/v1/backtests?batch_id={sub['batch_id']}"
    rows = client.get(sub["url"], headers=bearer(token)).get_json()["backtests"]
    assert sorted(r["id"] for r in rows) == sorted(sub["ids"]) and {r["params"]["fast"] for r in rows} == {5, 8}


@pytest.mark.parametrize("role,scopes", [("viewer", ("read",)), ("trader", ("read",)), ("admin", ("read", "admin"))])
def test_submit_needs_the_trade_scope(seeded, make_token, role, scopes):
    client = seeded.test_client()
    token, _uid, _ = make_token(role=role, scopes=scopes)
    before = _count_backtests(seeded)
    resp = client.post("/api/v1/backtests", json=_form(), headers=bearer(token))
    assert resp.status_code == 403 and "'trade' scope" in resp.get_json()["detail"]
    assert _count_backtests(seeded) == before


def test_demoted_trader_token_cannot_submit(seeded, make_token):
    from app.extensions import db
    from app.models.user import User

    client = seeded.test_client()
    token, uid, _ = make_token(scopes=("read", "trade"))
    with seeded.app_context():
        db.session.get(User, uid).role = "viewer"
        db.session.commit()
    assert client.post("/api/v1/backtests", json=_form(), headers=bearer(token)).status_code == 403


@pytest.mark.parametrize("changes,field,text", [
    ({"symbols": ["NOPE/USDT"]}, "json.symbols", "Unknown symbol"),
    ({"symbols": []}, "json.symbols", ""),
    ({"symbols": "BTC/USDT"}, "json.symbols", "Not a valid list"),
    ({"timeframe": None}, "json.timeframe", ""),
    ({"fee_bps": "lots"}, "json.fee_bps", "Not a valid number"),
    ({"fee_bps": 5000}, "json.fee_bps", "between 0 and 1000"),
    ({"start": "someday"}, "json.start", "not a date"),
    ({"strategy": "astrology"}, "json.strategy", "astrology"),
    ({"params": {"fast": 30, "slow": 20}}, "json", "slow"),
    ({"params": {"fast": list(range(1, 101)), "slow": list(range(2, 102))}}, "json", ""),
    ({"bogus": 1}, "json.bogus", "Unknown field"),
])
def test_invalid_submit_is_422_naming_the_field_and_writes_nothing(seeded, make_token, changes, field, text):
    client = seeded.test_client()
    token, _uid, _ = make_token(scopes=("read", "trade"))
    before = _count_backtests(seeded)
    form = {k: v for k, v in _form(**changes).items() if v is not None}
    resp = client.post("/api/v1/backtests", json=form, headers=bearer(token))
    assert resp.status_code == 422, resp.get_data(as_text=True)
    errors = resp.get_json()["errors"]
    assert resp.mimetype == "application/problem+json" and errors
    assert any(e["field"].startswith(field) and text in e["message"] for e in errors), errors
    assert _count_backtests(seeded) == before


def test_non_json_body_is_a_4xx_problem(seeded, make_token):
    client = seeded.test_client()
    token, _uid, _ = make_token(scopes=("read", "trade"))
    for kwargs in ({"data": "not json", "content_type": "application/json"}, {"data": "a=b"}, {"json": [1, 2]}):
        resp = client.post("/api/v1/backtests", headers=bearer(token), **kwargs)
        assert 400 <= resp.status_code < 500 and resp.mimetype == "application/problem+json", resp.data


def test_cross_site_origin_does_not_matter_with_a_token_but_cookies_never_work(seeded, make_token):
    from tests.conftest import login

    client = seeded.test_client()
    token, _uid, _ = make_token(scopes=("read", "trade"), email="cookie@example.com")
    ok = client.post("/api/v1/backtests", json=_form(), headers={**bearer(token), "Origin": "https://evil.example"})
    assert ok.status_code == 202
    login(client, "cookie@example.com")
    forged = client.post("/api/v1/backtests", json=_form(), headers={"Origin": "https://evil.example"})
    assert forged.status_code == 401
