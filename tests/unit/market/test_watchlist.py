"""The watch-list domain: parsing a form's market, the environment's list as the default, add and
remove (audited, nothing changed on bad input), and which markets a timeframe's refresh covers."""
import pytest
from sqlalchemy import func, select

from app.audit.log import Actor
from app.market import watchlist as wl
from app.market.watchlist import Market, WatchlistError

TFS = ("1m", "5m", "15m", "1h", "4h", "1d")
ADMIN = Actor("boss@example.com", 1, "10.0.0.1")


@pytest.mark.parametrize("exchange, symbol, tfs, field", [
    ("nasdaq", "BTC/USDT", ["1h"], "Exchange"),
    (None, "BTC/USDT", ["1h"], "Exchange"),
    ("binance", "", ["1h"], "Symbol"),
    ("binance", None, ["1h"], "Symbol"),
    ("binance", "BTCUSDT", ["1h"], "Symbol"),
    ("binance", "ВТС/USDT", ["1h"], "Symbol"),  # Cyrillic look-alikes
    ("binance", "BTC/USDT", [], "Timeframes"),
    ("binance", "BTC/USDT", None, "Timeframes"),
    ("binance", "BTC/USDT", "1h", "Timeframes"),
    ("binance", "BTC/USDT", ["1h", "2h"], "Timeframes"),
])
def test_bad_form_values_name_their_field(exchange, symbol, tfs, field):
    with pytest.raises(WatchlistError) as err:
        wl.parse_market(exchange, symbol, tfs, TFS)
    assert err.value.field == field and str(err.value).startswith(f"{field}: ")


def test_a_market_is_canonical():
    m = wl.parse_market(" Binance ", "sol/usdt", ["1d", "1h", "1h", "1m"], TFS)
    assert m == Market("binance", "SOL/USDT", ("1m", "1h", "1d")) and m.key == "binance SOL/USDT"


def test_an_unlisted_symbol_is_refused_and_the_demo_set_serves_any():
    m = Market("binance", "NOPE/USDT", ("1h",))
    with pytest.raises(WatchlistError, match="Symbol: NOPE/USDT is not a symbol binance lists"):
        wl.check_listed(m, ["BTC/USDT", "ETH/USDT"])
    wl.check_listed(m, None)
    wl.check_listed(Market("binance", "BTC/USDT", ("1h",)), ["BTC/USDT"])


def test_due_picks_the_markets_that_ingest_a_timeframe():
    a, b = Market("auto", "BTC/USDT", TFS), Market("kraken", "ETH/USD", ("1h",))
    assert wl.due([a, b], "1h") == [a, b] and wl.due([a, b], "1m") == [a]


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_the_migration_seeds_the_environments_list(app):
    from app.extensions import db

    settings = app.config["CW_SETTINGS"]
    with app.app_context():
        assert wl.markets(db.session, settings) == [Market("auto", s, tuple(settings.timeframes))
                                                    for s in settings.watchlist]
        assert [r["added_by"] for r in wl.listing(db.session, settings)] == ["WATCHLIST"] * len(settings.watchlist)


def test_an_empty_table_means_the_environments_list_and_the_first_change_keeps_it(app):
    from app.extensions import db
    from app.models import AuditEvent, WatchedMarket

    settings = app.config["CW_SETTINGS"]
    with app.app_context():
        db.session.query(WatchedMarket).delete()
        db.session.commit()
        assert wl.symbols(db.session, settings) == list(settings.watchlist)
        wl.add(db.session, settings, Market("binance", "SOL/USDT", ("1h",)), ADMIN, listed=["SOL/USDT"])
        db.session.commit()
        assert wl.symbols(db.session, settings) == [*settings.watchlist, "SOL/USDT"]
        [event] = db.session.scalars(select(AuditEvent)).all()
        assert (event.action, event.target, event.actor_email, event.ip) == (
            "watchlist.change", "binance SOL/USDT", "boss@example.com", "10.0.0.1")
        assert event.before is None and event.after == {"change": "add", "exchange": "binance",
                                                        "symbol": "SOL/USDT", "timeframes": ["1h"]}


def test_bad_adds_change_nothing(app):
    from app.extensions import db
    from app.models import AuditEvent, WatchedMarket

    settings = app.config["CW_SETTINGS"]
    with app.app_context():
        before = wl.markets(db.session, settings)
        for market, listed, message in (
                (Market("binance", "NOPE/USDT", ("1h",)), ["BTC/USDT"], "Symbol: NOPE/USDT is not a symbol"),
                (Market("auto", "BTC/USDT", ("1h",)), None, "Symbol: BTC/USDT on auto is already on the watch-list")):
            with pytest.raises(WatchlistError, match=message):
                wl.add(db.session, settings, market, ADMIN, listed=listed)
            db.session.rollback()
        assert wl.markets(db.session, settings) == before
        assert _count(db.session, AuditEvent) == 0 and _count(db.session, WatchedMarket) == len(before)


def test_remove_keeps_or_deletes_history_and_an_emptied_list_stays_empty(app):
    from app.extensions import db
    from app.market import store
    from app.models import AuditEvent

    settings = app.config["CW_SETTINGS"]
    with app.app_context():
        conn = db.session.connection()
        btc, eth = (store.get_or_create_series(conn, "demo", s, "1h") for s in ("BTC/USDT", "ETH/USDT"))
        other = store.get_or_create_series(conn, "kraken", "ETH/USDT", "1h")  # another exchange's: untouched
        db.session.commit()
        kept = wl.remove(db.session, settings, "auto", "BTC/USDT", ADMIN, delete_history=False)
        gone = wl.remove(db.session, settings, "auto", "ETH/USDT", ADMIN, delete_history=True, history_exchange="demo")
        db.session.commit()
        assert (kept.history, kept.series_deleted, gone.history, gone.series_deleted) == ("kept", 0, "deleted", 1)
        conn = db.session.connection()
        assert store.find_series(conn, "demo", "BTC/USDT", "1h") == btc
        assert store.find_series(conn, "demo", "ETH/USDT", "1h") is None and eth
        assert store.find_series(conn, "kraken", "ETH/USDT", "1h") == other
        assert wl.markets(db.session, settings) == [] and wl.is_removed(db.session, "auto", "BTC/USDT")
        afters = [e.after for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        assert [a["history"] for a in afters] == ["kept", "deleted"]
        with pytest.raises(WatchlistError, match="Market: 'BTC/USDT' on 'auto' is not on the watch-list"):
            wl.remove(db.session, settings, "auto", "BTC/USDT", ADMIN, delete_history=False)
        # adding it again brings the row back
        wl.add(db.session, settings, Market("auto", "BTC/USDT", ("1h",)), ADMIN, listed=None)
        assert wl.markets(db.session, settings) == [Market("auto", "BTC/USDT", ("1h",))]
        assert not wl.is_removed(db.session, "auto", "BTC/USDT")


def test_the_feed_decides_which_symbols_the_seed_loads_and_a_connection_reads_as_a_session(app):
    from app.extensions import db

    settings = app.config["CW_SETTINGS"]
    with app.app_context():
        wl.add(db.session, settings, Market("kraken", "DOT/USD", ("1d",)), ADMIN, listed=None)
        wl.add(db.session, settings, Market("demo", "ADA/USDT", ("1h",)), ADMIN, listed=None)
        wl.remove(db.session, settings, "auto", settings.watchlist[0], ADMIN, delete_history=False)
        db.session.commit()
        rest = list(settings.watchlist[1:])
        assert wl.symbols_fed_by(db.session, settings, "demo") == [*rest, "ADA/USDT"]
        assert wl.symbols_fed_by(db.session, settings, "kraken") == [*rest, "DOT/USD"]
        assert wl.symbols_fed_by(db.session.connection(), settings, "binance") == rest
        assert wl.markets(db.session.connection(), settings) == wl.markets(db.session, settings)


def test_history_counts_say_what_delete_history_takes():
    counts = {"series": 2, "bars": 12345, "signals": 7, "signal_quality": 2, "predictions": 3, "alert_cursors": 2}
    assert wl.describe_history(counts) == ("2 series with 12,345 bars, 7 signal row(s), 2 signal-quality row(s), "
                                           "3 prediction(s) and 2 alert cursor(s)")
    assert set(wl.DERIVED) == {"signals", "signal_quality", "predictions", "alert_cursors"}
