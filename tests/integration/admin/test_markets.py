"""The watch-list against the real services: adding a market asks the (fake) exchange, refuses a
symbol it does not list, and a real RQ worker backfills PostgreSQL with progress in ``job.meta``;
the schedule then refreshes it. Removing keeps or deletes its history and stops its ingestion, even
for a refresh that was already queued. Bad input over HTTP names its field and changes nothing."""
import time

import pandas as pd
import pytest
from sqlalchemy import func, select

from tests.conftest import login, make_settings, migrate_app, dispose
from tests.fakes.candles import make_candles
from tests.fakes.exchange import FakeExchange
from tests.integration.admin.dash_calls import dash_post_by_input
from tests.waiting import until

pytestmark = pytest.mark.integration


def _hourly(n=2100, seed=3):
    """``n`` closed 1h bars ending at the current hour (a worker's real clock agrees)."""
    end = pd.Timestamp.now(tz="UTC").floor("h")
    return make_candles(n, start=(end - pd.Timedelta(hours=n)).isoformat(), freq_s=3600, seed=seed)


def _until(check, timeout=60.0, what="condition"):
    return until(check, timeout=timeout, what=what, step=0.2)


@pytest.fixture
def fake():
    with FakeExchange({"SOL/USDT": _hourly(), "BTC/USDT": _hourly(seed=4)}, base_timeframe="1h") as ex:
        yield ex


@pytest.fixture
def live(fake, fresh_pg_url, redis_url, rq_worker):
    """A migrated production-mode server whose Binance is the fake, and a real ingest worker on it."""
    from app.server import create_server

    server = create_server(make_settings(database_url=fresh_pg_url, redis_url=redis_url,
                                         binance_base_url=fake.base_url))
    migrate_app(server)
    rq_worker("ingest", env={"BINANCE_BASE_URL": fake.base_url}, database_url=fresh_pg_url)
    yield server
    dispose(server)


def _audits(db):
    from app.models import AuditEvent

    return [(e.action, e.target, e.after.get("change"), e.after.get("history"))
            for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_add_checks_the_exchange_then_a_worker_backfills_and_the_schedule_takes_it(live, fake, redis_client):
    from app.audit.log import Actor
    from app.extensions import db
    import app.hot as hot
    from app.market import query, store, watchlist
    from app.market.watchlist import Market, WatchlistError
    from app.models import WatchedMarket
    from workers.queues import fetch_job
    from workers.schedule import enqueue_refreshes
    from workers.watchlist import add_market

    settings = live.config["CW_SETTINGS"]
    actor = Actor("boss@example.com", 1, "10.1.2.3")
    with live.app_context():
        before = watchlist.markets(db.session, settings)
        fake.fail_next(2, 503, path="/api/v3/exchangeInfo")  # down: one try and one retry, then a clear refusal
        with pytest.raises(WatchlistError, match="^Exchange: binance could not be asked for its symbols"):
            add_market(settings, Market("binance", "SOL/USDT", ("1h",)), actor)
        with pytest.raises(WatchlistError, match="^Symbol: NOPE/USDT is not a symbol binance lists"):
            add_market(settings, Market("binance", "NOPE/USDT", ("1h",)), actor)
        assert fake.requests_to("/api/v3/exchangeInfo"), "the exchange was not asked"
        assert watchlist.markets(db.session, settings) == before and _audits(db) == []
        assert db.session.scalar(select(func.count()).select_from(WatchedMarket)) == len(before)
        assert redis_client.llen("rq:queue:ingest") == 0

        job = add_market(settings, Market("binance", "SOL/USDT", ("1h",)), actor)
        assert job.meta["phase"] == "queued"
        seen = set()

        def finished():
            ref = fetch_job(job.id)
            seen.add(round(float(ref.meta.get("progress", 0))))
            return ref if ref.status in ("finished", "failed") else None

        done = _until(finished, what="the backfill")
        assert done.status == "finished", done.error
        assert done.meta["progress"] == 100 and done.result["written"]["1h"] >= 1990
        conn = db.session.connection()
        sid = store.find_series(conn, "binance", "SOL/USDT", "1h")
        assert store.count_candles(conn, sid) == done.result["written"]["1h"]
        last = store.last_candle_time(conn, sid)
        assert last < pd.Timestamp.now(tz="UTC").floor("h")  # closed bars only
        db.session.rollback()
        assert "SOL/USDT" in query.catalog(db.session, hot.catalog_cache(settings)).symbols  # on every page
        assert watchlist.markets(db.session, settings)[-1] == Market("binance", "SOL/USDT", ("1h",))
        assert _audits(db) == [("watchlist.change", "binance SOL/USDT", "add", None)]
        jobs = enqueue_refreshes(settings, ["1h"])
        assert {"exchange": "binance", "symbol": "SOL/USDT", "timeframe": "1h"} in [
            {k: j[k] for k in ("exchange", "symbol", "timeframe")} for j in jobs]
        assert not [j for j in enqueue_refreshes(settings, ["1m"]) if j["symbol"] == "SOL/USDT"]


def test_remove_keeps_or_deletes_history_and_a_queued_refresh_does_nothing(live, fake, redis_client):
    from app.audit.log import Actor
    from app.extensions import db
    import app.hot as hot
    from app.market import query, store, watchlist
    from app.market.watchlist import Market
    from workers.queues import enqueue, fetch_job
    from workers.schedule import enqueue_refreshes
    from workers.watchlist import remove_market

    settings = live.config["CW_SETTINGS"]
    actor = Actor("boss@example.com", 1, None)
    with live.app_context():
        for symbol in ("SOL/USDT", "BTC/USDT"):
            watchlist.add(db.session, settings, Market("binance", symbol, ("1h",)), actor, listed=None)
            conn = db.session.connection()
            store.bulk_upsert_candles(conn, store.get_or_create_series(conn, "binance", symbol, "1h"),
                                      fake.candles[symbol].iloc[-50:-1])
        db.session.commit()
        assert {"SOL/USDT", "BTC/USDT"} <= set(query.catalog(db.session, hot.catalog_cache(settings)).symbols)

        from app.hot.live import LiveCache

        live_cache = LiveCache(redis_client)
        for symbol in ("SOL/USDT", "BTC/USDT"):
            live_cache.write_candles("binance", symbol, "1h", fake.candles[symbol].iloc[-10:-1], keep=500)
        queued = enqueue("ingest", "workers.ingest.refresh", "binance", "SOL/USDT", "1h")  # before the removal
        kept = remove_market(settings, "binance", "SOL/USDT", actor, delete_history=False)
        gone = remove_market(settings, "binance", "BTC/USDT", actor, delete_history=True)
        assert (kept.history, gone.history, gone.series_deleted, gone.bars_deleted) == ("kept", "deleted", 1, 49)

        fake.clear_requests()
        ref = _until(lambda: (r := fetch_job(queued.id)).status in ("finished", "failed") and r, what="the refresh")
        assert ref.status == "finished" and ref.result["skipped"] == "removed"
        assert not fake.requests_to("/api/v3/klines")
        conn = db.session.connection()
        assert store.count_candles(conn, store.find_series(conn, "binance", "SOL/USDT", "1h")) == 49
        assert store.find_series(conn, "binance", "BTC/USDT", "1h") is None
        assert live_cache.read_candles("binance", "BTC/USDT", "1h") is None  # deleted history leaves no cached tail
        assert len(live_cache.read_candles("binance", "SOL/USDT", "1h")) == 9
        db.session.rollback()
        symbols = query.catalog(db.session, hot.catalog_cache(settings)).symbols
        assert "SOL/USDT" in symbols and "BTC/USDT" not in symbols  # kept history stays browsable
        assert not [j for j in enqueue_refreshes(settings, ["1h"]) if j["exchange"] == "binance"]
        assert [a[2:] for a in _audits(db)] == [("add", None), ("add", None), ("remove", "kept"),
                                                ("remove", "deleted")]


def _markets_call(client, **values):
    base = {"admin-market-add.n_clicks": 1, "admin-market-exchange.value": "demo",
            "admin-market-symbol.value": "ADA/USDT", "admin-market-timeframes.value": ["1h"]}
    base.update({f"admin-market-{k}.{'n_clicks' if k == 'add' else 'value'}": v for k, v in values.items()})
    return dash_post_by_input(client, "admin-market-add", values=base, changed=["admin-market-add.n_clicks"])


def test_bad_input_on_the_markets_form_names_the_field_and_changes_nothing(dash_server, make_dash_user):
    from app.extensions import db
    from app.models import AuditEvent, WatchedMarket

    email, _ = make_dash_user("mk", role="admin")
    client = dash_server.test_client()
    login(client, email)

    def state():
        with dash_server.app_context():
            return (sorted((m.exchange, m.symbol, m.removed_at is None) for m in db.session.scalars(select(WatchedMarket))),
                    db.session.scalar(select(func.count()).select_from(AuditEvent)
                                      .where(AuditEvent.action == "watchlist.change")))

    before = state()
    for values, message in (({"exchange": "nasdaq"}, "Exchange: choose one of"),
                            ({"symbol": "ADAUSDT"}, "Symbol: invalid symbol"),
                            ({"symbol": ""}, "Symbol: enter a symbol"),
                            ({"timeframes": []}, "Timeframes: choose at least one"),
                            ({"timeframes": ["7m"]}, "Timeframes: &#x27;7m&#x27; is not one of"),
                            ({"exchange": "auto", "symbol": "BTC/USDT"}, "Symbol: BTC/USDT on auto is already")):
        resp = _markets_call(client, **values)
        assert resp.status_code == 200
        body = resp.get_json()["response"]["admin-markets-msg"]["children"]
        text = body["props"]["children"]
        assert text.startswith(message.split(":")[0] + ":") and message.replace("&#x27;", "'") in text, text
        assert "admin-market-job" not in resp.get_json()["response"]
    resp = _markets_call(client, timeframes="1h")  # a wrong type: the schema's message, in the section
    assert resp.status_code == 200 and "Timeframes" in resp.get_data(as_text=True)
    assert state() == before


def _message(resp):
    return resp.get_json()["response"]["admin-markets-msg"]["children"]["props"]["children"]


def test_remove_over_http_asks_first_and_says_what_happens_to_the_history(dash_server, make_dash_user):
    from app.audit.log import Actor
    from app.extensions import db
    from app.market import watchlist
    from app.market.watchlist import Market

    email, _ = make_dash_user("mk", role="admin")
    client = dash_server.test_client()
    login(client, email)
    settings = dash_server.config["CW_SETTINGS"]
    with dash_server.app_context():
        watchlist.add(db.session, settings, Market("demo", "ZEC/USDT", ("1h",)), Actor("cli"), listed=None)
        db.session.commit()
    key = "demo|ZEC/USDT"
    for history, fate in (("delete", "DELETE its history: 0 series with 0 bars, 0 signal row(s)"),
                          ("keep", "keep its stored candles")):
        ask = dash_post_by_input(client, "admin-market-remove", values={"admin-market-history.value": history},
                                 pattern={("admin-market-remove", "n_clicks"): [(key, 1)]},
                                 changed=[f'{{"index":"{key}","type":"admin-market-remove"}}.n_clicks'])
        out = ask.get_json()["response"]
        assert out["admin-market-confirm-remove"]["displayed"] is True and out["admin-market-pending-remove"]["data"] == key
        assert fate in out["admin-market-confirm-remove"]["message"]
    with dash_server.app_context():
        assert "ZEC/USDT" in watchlist.symbols(db.session, settings)  # asking removes nothing
    bad = dash_post_by_input(client, "admin-market-confirm-remove",
                             values={"admin-market-confirm-remove.submit_n_clicks": 1,
                                     "admin-market-pending-remove.data": "demo|NOPE/USDT",
                                     "admin-market-history.value": "keep"},
                             changed=["admin-market-confirm-remove.submit_n_clicks"])
    assert _message(bad) == "Market: 'NOPE/USDT' on 'demo' is not on the watch-list"
    done = dash_post_by_input(client, "admin-market-confirm-remove",
                              values={"admin-market-confirm-remove.submit_n_clicks": 1,
                                      "admin-market-pending-remove.data": key, "admin-market-history.value": "keep"},
                              changed=["admin-market-confirm-remove.submit_n_clicks"])
    assert _message(done) == "ZEC/USDT removed; its stored history is kept."
    with dash_server.app_context():
        assert "ZEC/USDT" not in watchlist.symbols(db.session, settings)
