"""Portfolio callbacks through Dash's own endpoint: viewers are refused every write on the server, a user
never reaches another user's rows, bad input names the field and writes nothing."""
import json
from datetime import datetime, timezone

import pytest

from tests.conftest import login

pytestmark = pytest.mark.integration


def _call(client, output_key, values, trigger):
    """POST the callback whose output contains ``output_key`` with ``values`` ({"id.prop": value})."""
    spec = next(d for d in client.get("/_dash-dependencies").get_json() if output_key in d["output"])
    outs = []
    for part in spec["output"].strip(".").split("..."):
        cid, prop = part.rsplit(".", 1)
        outs.append({"id": cid, "property": prop.split("@")[0]})

    def deps(items):
        return [{"id": d["id"], "property": d["property"], "value": values.get(f"{d['id']}.{d['property']}")}
                for d in items]

    payload = {"output": spec["output"], "outputs": outs if len(outs) > 1 else outs[0],
               "inputs": deps(spec["inputs"]), "state": deps(spec["state"]), "changedPropIds": [trigger]}
    return client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")


DEPOSIT = {"pf-tx-add.n_clicks": 1, "pf-tx-kind.value": "deposit", "pf-tx-asset.value": "USDT",
           "pf-tx-quantity.value": "1000", "pf-tx-fee.value": "0", "pf-tx-time.value": "2026-01-01 00:00",
           "pf-tx-note.value": "", "pf-tx-version.data": 0}


def _transactions(server, user_id):
    from app.extensions import db
    from app.portfolio import store

    with server.app_context():
        out = store.transactions(db.session, user_id)
        db.session.rollback()
        return out


def test_viewer_is_refused_every_write(dash_server, make_dash_user):
    email, uid = make_dash_user("v", role="viewer")
    client = dash_server.test_client()
    login(client, email)
    assert _call(client, "pf-tx-msg.children", DEPOSIT, "pf-tx-add.n_clicks").status_code == 403
    assert _call(client, "pf-ps-msg.children@", {"pf-ps-toggle.n_clicks": 1}, "pf-ps-toggle.n_clicks"
                 ).status_code == 403
    assert _call(client, "pf-import-msg.children", {"pf-import.contents": "data:text/csv;base64,eA=="},
                 "pf-import.contents").status_code == 403
    assert _transactions(dash_server, uid) == []


def _seed_series(server):
    import app.hot as hot
    from app.extensions import db
    from app.market import store
    from tests.unit.backtest.backtest_candles import random_candles

    with server.app_context():
        sid = store.get_or_create_series(db.session.connection(), "demo", "BTC/USDT", "1h")
        store.upsert_candles(db.session.connection(), sid, random_candles(n=30, start="2026-01-01"))
        db.session.commit()
        hot.catalog_cache(server.config["CW_SETTINGS"]).invalidate()


def test_trader_writes_and_bad_input_names_the_field(dash_server, make_dash_user):
    _seed_series(dash_server)
    email, uid = make_dash_user("t")
    client = dash_server.test_client()
    login(client, email)
    resp = _call(client, "pf-tx-msg.children", DEPOSIT, "pf-tx-add.n_clicks")
    assert resp.status_code == 200 and "Added deposit of 1000 USDT" in resp.get_data(as_text=True).replace("\\u002f", "/")
    for change, field in [({"pf-tx-quantity.value": "-5"}, "quantity"),
                          ({"pf-tx-kind.value": "buy", "pf-tx-asset.value": "DOGE/USDT", "pf-tx-price.value": "1"},
                           "asset"),
                          ({"pf-tx-time.value": "2999-01-01"}, "time"),
                          ({"pf-tx-kind.value": "sell", "pf-tx-asset.value": "BTC/USDT", "pf-tx-price.value": "10"},
                           "quantity: sells 1000 BTC/USDT but only 0 is held")]:
        body = _call(client, "pf-tx-msg.children", {**DEPOSIT, **change}, "pf-tx-add.n_clicks").get_data(as_text=True).replace("\\u002f", "/")
        assert f"Not saved: {field}" in body
    assert [t.kind for t in _transactions(dash_server, uid)] == ["deposit"]
    csv_text = "time,kind,asset,quantity,price\n2026-01-02,buy,BTC/USDT,1,100\n2026-01-03,buy,BTC/USDT,x,100\n"
    import base64

    upload = "data:text/csv;base64," + base64.b64encode(csv_text.encode()).decode()
    body = _call(client, "pf-import-msg.children", {"pf-import.contents": upload, "pf-import.filename": "t.csv",
                                                    "pf-import-partial.value": False, "pf-tx-version.data": 1},
                 "pf-import.contents").get_data(as_text=True).replace("\\u002f", "/")
    assert "nothing imported" in body and "line 3: quantity" in body
    assert len(_transactions(dash_server, uid)) == 1


def test_a_user_never_reaches_another_users_strategy(dash_server, make_dash_user):
    from app.backtest.config import BacktestConfig
    from app.extensions import db
    from app.models import PaperStrategy
    from app.portfolio import paper, store

    owner_email, owner = make_dash_user("o")
    other_email, _ = make_dash_user("x")
    with dash_server.app_context():
        spec = paper.make_spec(exchange="demo", symbol="BTC/USDT", timeframe="1h", strategy="ma_cross", params={},
                               config=BacktestConfig(), start_at=datetime.now(timezone.utc))
        sid = store.create_strategy(db.session, owner, spec).id
        db.session.commit()
    client = dash_server.test_client()
    login(client, other_email)
    forged = [{"id": sid}]      # a client that sends someone else's row id
    body = _call(client, "pf-ps-msg.children@", {"pf-ps-toggle.n_clicks": 1, "pf-ps-table.selected_rows": [0],
                                                  "pf-ps-table.data": forged}, "pf-ps-toggle.n_clicks"
                 ).get_data(as_text=True).replace("\\u002f", "/")
    assert f"paper strategy {sid} not found" in body
    body = _call(client, "pf-recon.children", {"pf-ps-reconcile.n_clicks": 1, "pf-ps-table.selected_rows": [0],
                                               "pf-ps-table.data": forged}, "pf-ps-reconcile.n_clicks"
                 ).get_data(as_text=True).replace("\\u002f", "/")
    assert "not found" in body and "Match rate" not in body
    refreshed = _call(client, "pf-ps-table.data", {"pf-method.value": "fifo", "pf-benchmark.value": False},
                      "pf-refresh.n_intervals").get_json()
    assert refreshed["response"]["pf-ps-table"]["data"] == []
    with dash_server.app_context():
        assert db.session.get(PaperStrategy, sid).status == "active"


ORDER = {"pf-order-place.n_clicks": 1, "pf-order-symbol.value": "BTC/USDT", "pf-order-timeframe.value": "1h",
         "pf-order-side.value": "buy", "pf-order-type.value": "limit", "pf-order-qty.value": "1",
         "pf-order-price.value": "50", "pf-order-tif.value": "gtc", "pf-tx-version.data": 0}


def test_paper_orders_viewer_refused_trader_placed_and_validated(dash_server, make_dash_user):
    from app.extensions import db
    from app.portfolio import store

    _seed_series(dash_server)
    viewer, vid = make_dash_user("v", role="viewer")
    client = dash_server.test_client()
    login(client, viewer)
    assert _call(client, "pf-order-msg.children", ORDER, "pf-order-place.n_clicks").status_code == 403
    email, uid = make_dash_user("t")
    client = dash_server.test_client()
    login(client, email)
    for change, message in [({"pf-order-qty.value": "-1"}, "Not placed: qty: must be positive"),
                            ({"pf-order-price.value": ""}, "Not placed: price: must be a number"),
                            ({"pf-order-side.value": "sell"}, "Not placed: qty: sells 1 BTC/USDT"),
                            ({"pf-order-timeframe.value": "1w"}, "Not placed: timeframe")]:
        body = _call(client, "pf-order-msg.children", {**ORDER, **change}, "pf-order-place.n_clicks"
                     ).get_data(as_text=True).replace("\\u002f", "/")
        assert message in body
    body = _call(client, "pf-order-msg.children", ORDER, "pf-order-place.n_clicks").get_data(as_text=True)
    assert "placed" in body
    with dash_server.app_context():
        rows = store.orders(db.session, uid)
        assert [(o.side, o.type, o.qty, o.price, o.status) for o in rows] == [("buy", "limit", 1.0, 50.0, "open")]
        assert store.orders(db.session, vid) == []
        db.session.rollback()


def test_exports_are_the_users_own_transactions_and_positions(dash_server, make_dash_user):
    from app.extensions import db
    from app.portfolio import store
    from app.portfolio.transactions import make_transaction, parse_csv

    _seed_series(dash_server)
    email, uid = make_dash_user("t")
    _, other = make_dash_user("x")
    with dash_server.app_context():
        known = ("BTC/USDT",)
        store.add_transactions(db.session, uid, [
            make_transaction(time="2026-01-01", kind="deposit", quantity="1000", known_assets=known),
            make_transaction(time="2026-01-02", kind="buy", asset="BTC/USDT", quantity="2", price="100", fee="1",
                             known_assets=known)])
        store.add_transactions(db.session, other, [
            make_transaction(time="2026-01-01", kind="deposit", quantity="5", known_assets=known)])
        db.session.commit()
    client = dash_server.test_client()
    login(client, email)
    out = _call(client, "pf-download.data", {"pf-export-tx.n_clicks": 1, "pf-method.value": "fifo"},
                "pf-export-tx.n_clicks").get_json()["response"]["pf-download"]["data"]
    assert out["filename"] == "transactions.csv"
    rows, errors = parse_csv(out["content"], known_assets=("BTC/USDT",))
    assert errors == [] and [(t.kind, t.quantity) for t in rows] == [("deposit", 1000.0), ("buy", 2.0)]
    out = _call(client, "pf-download.data", {"pf-export-positions.n_clicks": 1, "pf-method.value": "fifo"},
                "pf-export-positions.n_clicks").get_json()["response"]["pf-download"]["data"]
    lines = out["content"].splitlines()
    assert out["filename"] == "positions.csv" and lines[0].startswith("asset,quantity,avg_cost,cost")
    assert lines[1].startswith("BTC/USDT,2.0,100.5,201.0") and len(lines) == 2


@pytest.mark.parametrize("role, read_only", [("viewer", True), ("trader", False)])
def test_layout_is_read_only_for_viewers(dash_server, make_dash_user, role, read_only):
    from flask_login import login_user

    from app.extensions import db
    from app.models import User
    from pages import portfolio

    email, _ = make_dash_user("p", role=role)
    with dash_server.test_request_context("/portfolio"):
        login_user(db.session.scalar(db.select(User).filter_by(email=email)))
        page = portfolio.layout()
    found = {}

    def walk(node):
        if getattr(node, "id", None) in (portfolio.TX_ADD, portfolio.PS_ADD, portfolio.OR_PLACE, portfolio.IMPORT,
                                          portfolio.PS_TOGGLE, portfolio.OR_CANCEL, "pf-read-only"):
            found[node.id] = getattr(node, "disabled", True)
        children = getattr(node, "children", None)
        for child in children if isinstance(children, (list, tuple)) else [children]:
            if child is not None and not isinstance(child, (str, int, float)):
                walk(child)

    walk(page)
    assert ("pf-read-only" in found) is read_only
    assert all(found[i] is read_only for i in (portfolio.TX_ADD, portfolio.PS_ADD, portfolio.OR_PLACE,
                                                portfolio.IMPORT, portfolio.PS_TOGGLE, portfolio.OR_CANCEL))
