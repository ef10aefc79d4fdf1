"""Portfolios, transactions, manual paper orders and paper strategies over the API on PostgreSQL: the
Portfolio page's checks, ``trade`` to write, another user's row a 404, a refusal writes nothing."""
from __future__ import annotations

import pytest

from tests.integration.api.conftest import count_rows, new_token

pytestmark = pytest.mark.integration
P = "/api/v1/portfolio"


def test_transactions_holdings_and_a_ledger_that_would_go_short(resource_app):
    from app.models.portfolio import PortfolioTransaction

    client = resource_app.test_client()
    auth, _uid, _ = new_token(resource_app)
    dep = client.post(f"{P}/transactions", json={"time": "2026-01-01T00:00:00+00:00", "kind": "deposit",
                                                   "quantity": 10_000}, headers=auth)
    assert dep.status_code == 201, dep.get_data(as_text=True)
    buy = client.post(f"{P}/transactions", json={"time": "2026-01-02T00:00:00+00:00", "kind": "buy",
                                                   "asset": "BTC/USDT", "quantity": 0.1, "price": 40_000, "fee": 4},
                      headers=auth).get_json()
    assert (buy["kind"], buy["asset"], buy["quantity"], buy["time"]) == ("buy", "BTC/USDT", 0.1,
                                                                         "2026-01-02T00:00:00+00:00")
    listed = client.get(f"{P}/transactions", headers=auth).get_json()
    assert listed["portfolio"] == "main" and [t["kind"] for t in listed["transactions"]] == ["deposit", "buy"]
    assert listed["transactions"][1]["id"] == buy["id"]
    held = client.get(f"{P}/holdings/main", headers=auth).get_json()
    assert [p["asset"] for p in held["positions"]] == ["BTC/USDT"]
    assert held["summary"]["cash"] == pytest.approx(10_000 - 4_000 - 4)
    assert client.get(P, headers=auth).get_json() == {"portfolios": ["main"]}

    before = count_rows(resource_app, PortfolioTransaction)
    short = client.post(f"{P}/transactions", json={"time": "2026-01-03T00:00:00+00:00", "kind": "sell",
                                                     "asset": "BTC/USDT", "quantity": 5, "price": 40_000}, headers=auth)
    assert short.status_code == 422 and short.mimetype == "application/problem+json"
    assert short.get_json()["errors"][0]["field"].startswith("json.")
    assert count_rows(resource_app, PortfolioTransaction) == before
    sell = client.post(f"{P}/transactions", json={"time": "2026-01-03T00:00:00+00:00", "kind": "sell",
                                                    "asset": "BTC/USDT", "quantity": 0.05, "price": 41_000},
                       headers=auth).get_json()
    # deleting the buy would leave the sell short: refused, nothing deleted
    gone = client.delete(f"{P}/transactions/{buy['id']}", headers=auth)
    assert gone.status_code == 422 and gone.get_json()["errors"][0]["field"].startswith("json.")
    assert count_rows(resource_app, PortfolioTransaction) == before + 1
    stranger, _, _ = new_token(resource_app)
    assert client.delete(f"{P}/transactions/{sell['id']}", headers=stranger).status_code == 404
    assert client.get(f"{P}/transactions", headers=stranger).get_json()["transactions"] == []
    assert count_rows(resource_app, PortfolioTransaction) == before + 1
    assert client.delete(f"{P}/transactions/{sell['id']}", headers=auth).status_code == 204
    assert client.delete(f"{P}/transactions/{sell['id']}", headers=auth).status_code == 404
    assert count_rows(resource_app, PortfolioTransaction) == before


@pytest.mark.parametrize("body,field", [
    ({"kind": "gift", "quantity": 1}, "json.kind"),
    ({"kind": "buy", "asset": "NOPE/USDT", "quantity": 1, "price": 1}, "json.asset"),
    ({"kind": "deposit", "quantity": -5}, "json.quantity"),
    ({"kind": "deposit", "quantity": 5, "time": "2999-01-01T00:00:00+00:00"}, "json.time"),
    ({"kind": "deposit", "quantity": 5, "time": "2026-01-01T00:00:00"}, "json.time"),  # no zone
    ({"kind": "deposit", "quantity": 5, "portfolio": "../etc"}, "portfolio"),
])
def test_bad_transaction_names_the_field_and_writes_nothing(resource_app, body, field):
    from app.models.portfolio import PortfolioTransaction

    client = resource_app.test_client()
    auth, _uid, _ = new_token(resource_app)
    before = count_rows(resource_app, PortfolioTransaction)
    resp = client.post(f"{P}/transactions", json={"time": "2026-01-01T00:00:00+00:00", **body}, headers=auth)
    assert resp.status_code == 422, resp.get_data(as_text=True)
    assert field in [e["field"] for e in resp.get_json()["errors"]]
    assert count_rows(resource_app, PortfolioTransaction) == before


def test_orders_place_list_cancel_and_owner_only(resource_app):
    from app.models.portfolio import PaperOrder

    client = resource_app.test_client()
    auth, _uid, _ = new_token(resource_app)
    other, _, _ = new_token(resource_app)
    placed = client.post(f"{P}/orders", json={"symbol": "BTC/USDT", "timeframe": "1h", "side": "buy", "type": "limit",
                                              "qty": 0.01, "price": 1000}, headers=auth)
    assert placed.status_code == 201, placed.get_data(as_text=True)
    order = placed.get_json()
    assert (order["status"], order["type"], order["price"], order["tif"]) == ("open", "limit", 1000, "gtc")
    assert [o["id"] for o in client.get(f"{P}/orders", headers=auth).get_json()["orders"]] == [order["id"]]
    assert client.get(f"{P}/orders", headers=other).get_json()["orders"] == []
    assert client.post(f"{P}/orders/{order['id']}/cancel", headers=other).status_code == 404
    done = client.post(f"{P}/orders/{order['id']}/cancel", headers=auth)
    assert done.status_code == 200 and done.get_json()["status"] == "cancelled"
    again = client.post(f"{P}/orders/{order['id']}/cancel", headers=auth)
    assert again.status_code == 422 and again.get_json()["errors"][0]["field"] == "json.order"

    before = count_rows(resource_app, PaperOrder)
    for body, field in (({"symbol": "NOPE/USDT"}, "json.symbol"), ({"timeframe": "7m"}, "json.timeframe"),
                        ({"type": "market", "price": 5.0}, "json.price"), ({"qty": -1}, "json.qty"),
                        ({"qty": 10_000_000, "type": "market", "price": None}, "json.qty")):
        resp = client.post(f"{P}/orders", json={"symbol": "BTC/USDT", "timeframe": "1h", "side": "buy",
                                                "type": "limit", "qty": 0.01, "price": 1000, **body}, headers=auth)
        assert resp.status_code == 422, (body, resp.get_data(as_text=True))
        assert field in [e["field"] for e in resp.get_json()["errors"]], (body, resp.get_json())
    assert count_rows(resource_app, PaperOrder) == before


def test_paper_strategy_start_stop_resume_and_owner_only(resource_app):
    from app.models.portfolio import PaperStrategy

    client = resource_app.test_client()
    auth, _uid, _ = new_token(resource_app)
    other, _, _ = new_token(resource_app)
    started = client.post(f"{P}/paper", json={"symbol": "BTC/USDT", "timeframe": "1h", "strategy": "ma_cross",
                                              "params": {"fast": 5, "slow": 20}, "initial_cash": 5000,
                                              "stop_loss_pct": 5}, headers=auth)
    assert started.status_code == 201, started.get_data(as_text=True)
    row = started.get_json()
    assert (row["status"], row["initial_cash"], row["params"]["fast"]) == ("active", 5000.0, 5)
    assert started.headers["Location"] == row["url"]
    got = client.get(row["url"], headers=auth).get_json()
    assert got["id"] == row["id"] and got["fills"] == []
    assert [s["id"] for s in client.get(f"{P}/paper", headers=auth).get_json()["strategies"]] == [row["id"]]
    for url in (row["url"], row["url"] + "/stop", row["url"] + "/start"):
        method = client.get if url == row["url"] else client.post
        assert method(url, headers=other).status_code == 404, url
    assert client.post(row["url"] + "/stop", headers=auth).get_json()["status"] == "stopped"
    assert client.post(row["url"] + "/start", headers=auth).get_json()["status"] == "active"

    before = count_rows(resource_app, PaperStrategy)
    for body, field in (({"strategy": "astrology"}, "json.strategy"), ({"params": {"fast": "x"}}, "json.params"),
                        ({"symbol": "NOPE/USDT"}, "json.symbol"), ({"initial_cash": 0}, "json.initial_cash"),
                        ({"stop_loss_pct": 150}, "json.stop_loss_pct")):
        resp = client.post(f"{P}/paper", json={"symbol": "BTC/USDT", "timeframe": "1h", "strategy": "ma_cross",
                                               **body}, headers=auth)
        assert resp.status_code == 422, (body, resp.get_data(as_text=True))
        assert field in [e["field"] for e in resp.get_json()["errors"]], (body, resp.get_json())
    assert count_rows(resource_app, PaperStrategy) == before


def test_portfolio_writes_need_trade_and_a_viewer_reads(resource_app):
    from app.models.portfolio import PaperOrder, PaperStrategy, PortfolioTransaction

    client = resource_app.test_client()
    viewer, _, _ = new_token(resource_app, role="viewer", scopes=("read",))
    counts = [count_rows(resource_app, m) for m in (PaperOrder, PaperStrategy, PortfolioTransaction)]
    for url, body in ((f"{P}/transactions", {"time": "2026-01-01T00:00:00+00:00", "kind": "deposit", "quantity": 1}),
                      (f"{P}/orders", {"symbol": "BTC/USDT", "timeframe": "1h", "side": "buy", "qty": 0.01}),
                      (f"{P}/paper", {"symbol": "BTC/USDT", "timeframe": "1h", "strategy": "ma_cross"})):
        resp = client.post(url, json=body, headers=viewer)
        assert resp.status_code == 403 and "'trade' scope" in resp.get_json()["detail"], url
    assert [count_rows(resource_app, m) for m in (PaperOrder, PaperStrategy, PortfolioTransaction)] == counts
    for url in (P, f"{P}/holdings/main", f"{P}/transactions", f"{P}/orders", f"{P}/paper"):
        assert client.get(url, headers=viewer).status_code == 200, url
