"""The stored watch-list everywhere, against the real services: a market added on the Admin page is
what the weekly retrain, the seed, the Admin page's Models section and the Alerts page offer, and a
removed one is not; removing with "delete history" also deletes the rows derived from its candles
(signals, signal quality, predictions, alert cursors) and keeps what users own; two admins adding the
same market at once get a field message, not an error (PostgreSQL)."""
import json
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import login
from tests.fakes.candles import make_candles
from tests.integration.admin.dash_calls import dash_post

pytestmark = pytest.mark.integration
BOSS = ("boss@example.com", None, None)


def _derived(session, exchange, symbol, when, tag):
    """One row of every derived kind for (exchange, symbol), plus a user's alert rule about it."""
    from app.models.alert import AlertCursor
    from app.models.ml import Prediction
    from app.models.signal import SignalQualityReport, SignalRecord

    for i in range(3):
        session.add(SignalRecord(exchange=exchange, symbol=symbol, timeframe="1h", bar_time=when + timedelta(hours=i),
                                 score=50.0 + i, confidence=0.5, label="neutral", reasons=[tag]))
    session.add(SignalQualityReport(exchange=exchange, symbol=symbol, timeframe="1h", bars=3, rows=[]))
    for i in range(2):
        session.add(Prediction(exchange=exchange, symbol=symbol, timeframe="1h", bar_time=when + timedelta(hours=i),
                               model_version=1, p_up=0.5))
    session.add(AlertCursor(exchange=exchange, symbol=symbol, timeframe="1h", evaluated_through=when,
                            evaluated_at=when))


def _kinds(session, exchange, symbol):
    from app.market.watchlist import DERIVED

    return {kind: session.scalar(select(func.count()).select_from(model).where(model.exchange == exchange,
                                                                              model.symbol == symbol))
            for kind, model in DERIVED.items()}


def test_delete_history_deletes_the_derived_rows_and_keeps_what_users_own(pg_app, redis_client):
    import app.hot as hot
    from app.audit.log import Actor
    from app.auth.users import create_user
    from app.extensions import db
    from app.market import store, watchlist
    from app.market.watchlist import Market
    from app.models import AuditEvent
    from app.models.alert import AlertRule
    from workers.watchlist import history_to_delete, remove_market

    settings = pg_app.config["CW_SETTINGS"]
    when = datetime(2026, 11, 1, tzinfo=timezone.utc)
    with pg_app.app_context():
        uid = create_user("t@example.com", "correct-horse-battery").id
        for symbol, seed in (("SOL/USDT", 1), ("XRP/USDT", 2)):
            watchlist.add(db.session, settings, Market("demo", symbol, ("1h",)), Actor(*BOSS), listed=None)
            conn = db.session.connection()
            store.bulk_upsert_candles(conn, store.get_or_create_series(conn, "demo", symbol, "1h"),
                                      make_candles(20, start="2026-11-01T00:00:00+00:00", freq_s=3600, seed=seed))
            _derived(db.session, "demo", symbol, when, symbol)
            db.session.add(AlertRule(user_id=uid, name=f"{symbol} rule", exchange="demo", symbol=symbol,
                                     timeframe="1h", kind="price_cross_up", params={"level": 1}, channels=["inapp"]))
        db.session.commit()
        hot.signal_cache(settings).write({"symbol": "SOL/USDT", "score": 1})

        asked = history_to_delete(settings, "demo", "SOL/USDT")
        assert asked == {"series": 1, "bars": 20, "signals": 3, "signal_quality": 1, "predictions": 2,
                         "alert_cursors": 1}
        assert "3 signal row(s)" in watchlist.describe_history(asked) and "2 prediction(s)" in \
            watchlist.describe_history(asked)

        removal = remove_market(settings, "demo", "SOL/USDT", Actor(*BOSS), delete_history=True)
        assert (removal.series_deleted, removal.bars_deleted) == (1, 20)
        assert removal.derived_deleted == {"signals": 3, "signal_quality": 1, "predictions": 2, "alert_cursors": 1}
        assert _kinds(db.session, "demo", "SOL/USDT") == dict.fromkeys(removal.derived_deleted, 0)
        assert _kinds(db.session, "demo", "XRP/USDT") == {"signals": 3, "signal_quality": 1, "predictions": 2,
                                                          "alert_cursors": 1}  # another market: untouched
        assert hot.signal_cache(settings).read("SOL/USDT") is None
        assert sorted(r.symbol for r in db.session.scalars(select(AlertRule))) == ["SOL/USDT", "XRP/USDT"]  # theirs
        audit = db.session.scalars(select(AuditEvent).filter_by(action="watchlist.change")
                                   .order_by(AuditEvent.id.desc())).first()
        assert audit.after["derived_deleted"] == removal.derived_deleted and audit.after["bars_deleted"] == 20

        kept = remove_market(settings, "demo", "XRP/USDT", Actor(*BOSS), delete_history=False)
        assert kept.derived_deleted is None and _kinds(db.session, "demo", "XRP/USDT")["signals"] == 3


def test_two_admins_adding_the_same_market_at_once_get_a_field_message(pg_app):
    from app.audit.log import Actor
    from app.extensions import db
    from app.market import watchlist
    from app.market.watchlist import Market, WatchlistError
    from app.models import AuditEvent, WatchedMarket

    settings = pg_app.config["CW_SETTINGS"]
    market = Market("demo", "DOT/USDT", ("1h",))
    with pg_app.app_context():
        engine = db.engine
        first, second = Session(engine), Session(engine)
        assert watchlist.markets(second, settings)  # the second admin's form was read before the first one's add
        watchlist.add(first, settings, market, Actor("a@example.com"), listed=None)  # flushed, not committed
        outcome = {}

        def other_admin():
            try:
                watchlist.add(second, settings, market, Actor("b@example.com"), listed=None)
                outcome["added"] = True
            except WatchlistError as exc:
                outcome["error"] = exc
                second.rollback()

        thread = threading.Thread(target=other_admin)
        thread.start()
        thread.join(1.0)
        assert thread.is_alive(), "the second insert should wait for the first transaction"
        first.commit()
        thread.join(20)
        err = outcome.get("error")
        assert err is not None and err.field == "Symbol", outcome
        assert str(err).startswith("Symbol: DOT/USDT on demo was added by another admin at the same moment")
        first.close(), second.close()
        rows = db.session.scalars(select(WatchedMarket).filter_by(symbol="DOT/USDT")).all()
        assert [(r.exchange, r.added_by) for r in rows] == [("demo", "a@example.com")]
        assert [e.actor_email for e in db.session.scalars(select(AuditEvent).filter_by(target="demo DOT/USDT"))] == [
            "a@example.com"]


def test_the_weekly_retrain_and_the_seed_follow_the_stored_watch_list(pg_app, redis_client):
    from rq import Queue

    from app.audit.log import Actor
    from app.extensions import db
    from app.market import watchlist
    from app.market.seed import seed_demo
    from app.market.watchlist import Market
    from workers.ml import retrain_due
    from workers.watchlist import remove_market

    settings = pg_app.config["CW_SETTINGS"]
    with pg_app.app_context():
        assert watchlist.symbols(db.session, settings) == list(settings.watchlist)  # seeded by the migration
        watchlist.add(db.session, settings, Market("auto", "ADA/USDT", ("1h", "1d")), Actor(*BOSS), listed=None)
        watchlist.add(db.session, settings, Market("kraken", "DOT/USD", ("1d",)), Actor(*BOSS), listed=None)
        db.session.commit()
        gone = settings.watchlist[0]
        remove_market(settings, "auto", gone, Actor(*BOSS), delete_history=False)

        jobs = retrain_due()
        expected = [s for s in settings.watchlist if s != gone] + ["ADA/USDT"]
        assert [(j["exchange"], j["symbol"], j["timeframe"]) for j in jobs] == [(None, s, "1h") for s in expected]
        queued = Queue("ml", connection=redis_client).jobs
        assert sorted((j.func_name, j.kwargs["symbol"]) for j in queued) == sorted(
            ("workers.ml.train", s) for s in expected)  # DOT/USD ingests no 1h: nothing to retrain on

        report = seed_demo(db.session.connection(), settings)
        db.session.commit()
        seeded = {key.split(" ")[0] for key in report.rows}
        assert seeded == set(expected)  # the demo feed's markets: auto ones, not kraken's, not the removed one


def _options(node, cid):
    """The options of the component with id ``cid`` in a serialised Dash tree."""
    if isinstance(node, dict):
        props = node.get("props", {})
        if isinstance(props, dict) and props.get("id") == cid:
            return [o["value"] if isinstance(o, dict) else o for o in props.get("options") or []]
        for v in node.values():
            if (found := _options(v, cid)) is not None:
                return found
    elif isinstance(node, list):
        for v in node:
            if (found := _options(v, cid)) is not None:
                return found
    return None


def _page(client, path):
    resp = dash_post(client, "_pages_content", values={"_pages_location.pathname": path,
                                                       "_pages_location.search": ""})
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return resp.get_json()["response"]["_pages_content"]["children"]


def test_a_market_added_on_the_admin_page_is_offered_on_the_pages_and_a_removed_one_is_not(dash_server,
                                                                                           make_dash_user):
    from app.audit.log import Actor
    from app.extensions import db
    from app.market import watchlist
    from app.market.watchlist import Market
    from workers.watchlist import remove_market

    email, _ = make_dash_user("mk", role="admin")
    client = dash_server.test_client()
    login(client, email)
    settings = dash_server.config["CW_SETTINGS"]
    with dash_server.app_context():
        watchlist.add(db.session, settings, Market("demo", "LTC/USDT", ("1h",)), Actor(*BOSS), listed=None)
        db.session.commit()
    try:
        assert "LTC/USDT" in _options(_page(client, "/alerts"), "al-symbol")
        assert "LTC/USDT" in _options(_page(client, "/admin"), "admin-train-symbol")
    finally:
        with dash_server.app_context():
            remove_market(settings, "demo", "LTC/USDT", Actor(*BOSS), delete_history=True)
    assert "LTC/USDT" not in _options(_page(client, "/alerts"), "al-symbol")
    admin = _page(client, "/admin")
    assert "LTC/USDT" not in _options(admin, "admin-train-symbol")
    assert _options(admin, "admin-train-symbol")  # the others are still offered
    assert "LTC/USDT" not in json.dumps(admin)
