"""Candles served from the encoded window in hot state (Redis) on PostgreSQL: byte for byte what the
database path answers, never stale after a bar changes, 304 without a read, and pages that reach past
the window (read from the database) still return every bar exactly once."""
from __future__ import annotations

import pytest

from app.api.v1 import candle_window
from tests.integration.api.conftest import new_token

pytestmark = pytest.mark.integration
Q = "/api/v1/candles?symbol=BTC/USDT&timeframe=15m"


def _series(app):
    from app.extensions import db
    from app.market import query, store

    with app.app_context():
        cat = query.catalog(db.session)
        sid = store.find_series(db.session.connection(), cat.exchange["BTC/USDT"], "BTC/USDT", "15m")
        frame = store.load_candles(db.session.connection(), sid)
        db.session.rollback()
        return sid, frame


@pytest.mark.parametrize("query", ["&limit=100", "&limit=10000", "&limit=7&format=csv",
                                   "&start=2000-01-01T00:00:00%2B00:00&limit=5000",
                                   "&end=2100-01-01T00:00:00%2B00:00&limit=1"])
def test_window_answers_byte_for_byte_what_the_database_path_answers(resource_app, redis_client, monkeypatch, query):
    client = resource_app.test_client()
    auth, _uid, _ = new_token(resource_app, role="viewer", scopes=("read",))
    sid, _frame = _series(resource_app)
    from_window = client.get(Q + query, headers=auth)
    assert from_window.status_code == 200
    assert redis_client.exists(f"cw:blobs:{candle_window.AREA}:{sid}")  # served from hot state
    monkeypatch.setattr(candle_window, "WINDOW", 0)  # an empty window: every page comes from the database
    from_db = client.get(Q + query, headers=auth)
    assert from_db.status_code == 200 and from_db.data == from_window.data and len(from_db.data) > 100
    assert from_db.headers.get("X-Next-Cursor") == from_window.headers.get("X-Next-Cursor")


def test_a_changed_bar_is_served_at_once_and_etags_follow_it(resource_app):
    from app.extensions import db
    from app.market import store

    client = resource_app.test_client()
    auth, _uid, _ = new_token(resource_app, role="viewer", scopes=("read",))
    sid, frame = _series(resource_app)
    first = client.get(Q + "&limit=50", headers=auth)
    etag = first.headers["ETag"].strip('"')
    assert client.get(Q + "&limit=50", headers={**auth, "If-None-Match": f'"{etag}"'}).status_code == 304
    fixed = frame.iloc[[-10]].assign(close=frame["close"].iloc[-10] + 1.5)  # a closed bar inside the page,
    with resource_app.app_context():                                        # corrected by the store
        store.upsert_candles(db.session.connection(), sid, fixed)
        db.session.commit()
    try:
        again = client.get(Q + "&limit=50", headers={**auth, "If-None-Match": f'"{etag}"'})
        assert again.status_code == 200 and again.headers["ETag"].strip('"') != etag
        row = next(c for c in again.get_json()["candles"] if c["time"] == frame.index[-10].isoformat())
        assert row["close"] == pytest.approx(float(frame["close"].iloc[-10]) + 1.5)
        now = again.headers["ETag"]
        unchanged = client.get(Q + "&limit=50", headers={**auth, "If-None-Match": now})
        assert unchanged.status_code == 304 and unchanged.data == b""
    finally:
        with resource_app.app_context():
            store.upsert_candles(db.session.connection(), sid, frame.iloc[[-10]])
            db.session.commit()


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_pages_across_the_window_edge_return_every_bar_exactly_once(resource_app, monkeypatch, fmt):
    import io

    import pandas as pd

    monkeypatch.setattr(candle_window, "WINDOW", 40)  # the first pages from the window, the rest from the database
    client = resource_app.test_client()
    auth, _uid, _ = new_token(resource_app, role="viewer", scopes=("read",))
    _sid, frame = _series(resource_app)
    seen, cursor = [], None
    while True:
        url = Q + f"&limit=15&format={fmt}" + (f"&cursor={cursor}" if cursor else "")
        resp = client.get(url, headers=auth)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        if fmt == "json":
            body = resp.get_json()
            times, cursor = [c["time"] for c in body["candles"]], body["next_cursor"]
        else:
            times = pd.read_csv(io.StringIO(resp.get_data(as_text=True)))["time"].tolist()
            cursor = resp.headers.get("X-Next-Cursor")
        seen = times + seen
        if not cursor:
            break
    assert seen == [t.isoformat() for t in frame.index]
