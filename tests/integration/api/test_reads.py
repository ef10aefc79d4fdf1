"""Read endpoints over the seeded demo market on PostgreSQL: markets, tickers, candles (pagination, CSV,
ETag), signals (current, history), predictions; every one refused without a token."""
from __future__ import annotations

import io

import pandas as pd
import pytest

from tests.integration.api.conftest import bearer

pytestmark = pytest.mark.integration


@pytest.fixture
def reader(seeded, make_token):
    token, _uid, _ = make_token(role="viewer")
    return seeded.test_client(), bearer(token)


def _stored(app, symbol, timeframe):
    from app.extensions import db
    from app.market import query, store

    with app.app_context():
        cat = query.catalog(db.session)
        sid = store.find_series(db.session.connection(), cat.exchange[symbol], symbol, timeframe)
        return store.load_candles(db.session.connection(), sid)


def test_markets_list_the_stored_series(reader):
    client, auth = reader
    body = client.get("/api/v1/markets", headers=auth).get_json()
    btc = next(m for m in body["markets"] if m["symbol"] == "BTC/USDT")
    assert btc["demo"] is True and "1h" in btc["timeframes"] and "15m" in btc["timeframes"]


def test_tickers_from_stored_bars(reader):
    client, auth = reader
    body = client.get("/api/v1/markets/tickers", headers=auth).get_json()
    t = next(t for t in body["tickers"] if t["symbol"] == "BTC/USDT")
    assert t["price"] > 0 and t["time"].endswith("+00:00")


def test_candle_pages_return_every_bar_exactly_once(seeded, reader):
    client, auth = reader
    stored = _stored(seeded, "BTC/USDT", "15m")
    assert len(stored) > 250
    seen, cursor, pages = [], None, 0
    while True:
        url = "/api/v1/candles?symbol=BTC/USDT&timeframe=15m&limit=100" + (f"&cursor={cursor}" if cursor else "")
        resp = client.get(url, headers=auth)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        page = resp.get_json()
        times = [c["time"] for c in page["candles"]]
        assert times == sorted(times) and len(times) <= 100
        seen = times + seen
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == -(-len(stored) // 100)
    assert seen == [t.isoformat() for t in stored.index]  # each bar once, in order
    last = client.get("/api/v1/candles?symbol=BTC/USDT&timeframe=15m&limit=1", headers=auth).get_json()["candles"][0]
    assert last["close"] == pytest.approx(float(stored["close"].iloc[-1]))


def test_candles_in_a_range_and_as_csv(seeded, reader):
    client, auth = reader
    stored = _stored(seeded, "BTC/USDT", "1h")
    start, end = stored.index[5], stored.index[15]
    q = {"symbol": "BTC/USDT", "timeframe": "1h", "start": start.isoformat(), "end": end.isoformat()}
    body = client.get("/api/v1/candles", query_string=q, headers=auth).get_json()
    assert [c["time"] for c in body["candles"]] == [t.isoformat() for t in stored.index[5:15]]
    csv = client.get("/api/v1/candles", query_string={**q, "format": "csv"}, headers=auth)
    assert csv.mimetype == "text/csv"
    frame = pd.read_csv(io.StringIO(csv.get_data(as_text=True)))
    assert list(frame.columns) == ["time", "open", "high", "low", "close", "volume"] and len(frame) == 10
    assert frame["close"].tolist() == pytest.approx(stored["close"].iloc[5:15].tolist())


def test_candles_etag_round_trip(reader):
    client, auth = reader
    url = "/api/v1/candles?symbol=BTC/USDT&timeframe=1h&limit=50"
    first = client.get(url, headers=auth)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag
    again = client.get(url, headers={**auth, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    other = client.get(url.replace("limit=50", "limit=49"), headers={**auth, "If-None-Match": etag})
    assert other.status_code == 200 and other.headers["ETag"] != etag


@pytest.mark.parametrize("query,field", [
    ("timeframe=1h", "query.symbol"),
    ("symbol=BTC/USDT&timeframe=1h&limit=0", "query.limit"),
    ("symbol=BTC/USDT&timeframe=1h&limit=10001", "query.limit"),
    ("symbol=BTC/USDT&timeframe=1h&start=yesterday", "query.start"),
    ("symbol=BTC/USDT&timeframe=1h&start=2026-01-01T00:00:00", "query.start"),  # no offset: ambiguous
    ("symbol=BTC/USDT&timeframe=1h&format=xml", "query.format"),
    ("symbol=BTC/USDT&timeframe=1h&cursor=!!!", "query.cursor"),
    ("symbol=BTC/USDT&timeframe=1h&start=2026-01-02T00:00:00Z&end=2026-01-01T00:00:00Z", "query.end"),
])
def test_candle_validation_names_the_field(reader, query, field):
    client, auth = reader
    resp = client.get(f"/api/v1/candles?{query}", headers=auth)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert field in [e["field"] for e in resp.get_json()["errors"]]


def test_cursor_of_another_series_is_refused(reader):
    client, auth = reader
    cursor = client.get("/api/v1/candles?symbol=BTC/USDT&timeframe=15m&limit=10", headers=auth).get_json()["next_cursor"]
    resp = client.get(f"/api/v1/candles?symbol=BTC/USDT&timeframe=1h&cursor={cursor}", headers=auth)
    assert resp.status_code == 422 and "belongs to BTC/USDT 15m" in resp.get_json()["errors"][0]["message"]


def test_unknown_series_is_404_naming_what_exists(reader):
    client, auth = reader
    resp = client.get("/api/v1/candles?symbol=DOGE/USDT&timeframe=1h", headers=auth)
    assert resp.status_code == 404 and "Available:" in resp.get_json()["detail"]


def test_signals_current_and_history_with_etag(seeded, reader):
    from app.analysis.analyze import analyze_symbol
    from app.extensions import db
    from app.market import query

    client, auth = reader
    empty = client.get("/api/v1/signals?symbol=BTC/USDT", headers=auth).get_json()
    assert empty["signals"][0]["snapshot"] is None
    with seeded.app_context():
        cat = query.catalog(db.session)
        analyze_symbol(db.session.connection(), cat.exchange["BTC/USDT"], "BTC/USDT")
        db.session.commit()
    resp = client.get("/api/v1/signals?symbol=BTC/USDT", headers=auth)
    snap = resp.get_json()["signals"][0]["snapshot"]
    assert snap is not None and "score" in str(snap) and "reasons" in str(snap)
    assert client.get("/api/v1/signals?symbol=BTC/USDT",
                      headers={**auth, "If-None-Match": resp.headers["ETag"]}).status_code == 304
    everyone = client.get("/api/v1/signals", headers=auth).get_json()["signals"]
    assert {s["symbol"] for s in everyone} >= {"BTC/USDT", "ETH/USDT"}
    hist = client.get("/api/v1/signals/history?symbol=BTC/USDT&limit=50", headers=auth).get_json()["history"]
    assert hist and {"timeframe", "bar_time", "score", "confidence", "label"} <= set(hist[0])
    assert hist[0]["bar_time"].endswith("+00:00")


def test_predictions_without_a_champion_are_empty(reader):
    client, auth = reader
    body = client.get("/api/v1/predictions?symbol=BTC/USDT", headers=auth).get_json()
    assert body == {"symbol": "BTC/USDT", "predictions": []}
    assert client.get("/api/v1/predictions?symbol=NOPE/USDT", headers=auth).status_code == 404


@pytest.mark.parametrize("url", ["/api/v1/markets", "/api/v1/markets/tickers",
                                 "/api/v1/candles?symbol=BTC/USDT&timeframe=1h", "/api/v1/signals",
                                 "/api/v1/signals/history?symbol=BTC/USDT", "/api/v1/predictions?symbol=BTC/USDT",
                                 "/api/v1/backtests", "/api/v1/backtests/1", "/api/v1/backtests/1/reports/trades.csv"])
def test_every_read_needs_a_token(seeded, url):
    resp = seeded.test_client().get(url)
    assert resp.status_code == 401 and resp.mimetype == "application/problem+json"


def test_candles_bound_past_2262_is_a_422_naming_the_field(api, make_token, seeded):
    """Found by Schemathesis: end=2263-01-01 overflowed pandas' nanosecond timestamps (a 500)."""
    token, _uid, _ = make_token()
    resp = api.get("/api/v1/candles?symbol=BTC%2FUSDT&timeframe=15m&end=2263-01-01T00%3A00%3A00Z",
                   headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 422 and "end" in resp.get_data(as_text=True)
