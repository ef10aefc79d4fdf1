"""The Market page's read side: catalog, symbol validation, cache-first candles and tickers."""
import pytest

from app.extensions import db

pytestmark = pytest.mark.integration


@pytest.fixture
def seeded(app, settings):
    from app.extensions import db
    from app.market.seed import seed_demo

    with app.app_context():
        seed_demo(db.session.connection(), settings)
        db.session.commit()
    return app


def test_catalog_lists_demo_series_and_flags_them(seeded):
    from app.market import query

    with seeded.app_context():
        cat = query.catalog(db.session)
    assert cat.symbols == ["BTC/USDT", "ETH/USDT"]
    assert cat.timeframes["BTC/USDT"] == ["1m", "5m", "15m", "1h", "4h", "1d"]
    assert cat.is_demo("BTC/USDT")


@pytest.mark.parametrize("symbol,tf,message", [
    ("DOGE/XYZ", None, "Unknown symbol 'DOGE/XYZ'. Available: BTC/USDT, ETH/USDT."),
    ("not a symbol", None, "invalid symbol"),
    ("BTC/USDT", "2h", "No '2h' candles for BTC/USDT"),
])
def test_resolve_rejects_bad_requests_with_a_clear_message(seeded, symbol, tf, message):
    from app.market import query

    with seeded.app_context():
        cat = query.catalog(db.session)
        with pytest.raises(query.UnknownSeries, match=message.replace("(", r"\(").replace(".", r"\.")):
            query.resolve(cat, symbol, tf)


def test_recent_candles_come_from_database_when_cache_is_cold(seeded, redis_url):
    import redis

    from app.market import query
    from app.hot.live import LiveCache

    cache = LiveCache(redis.Redis.from_url(redis_url), prefix="cwtest")
    with seeded.app_context():
        cat = query.catalog(db.session)
        df, origin = query.recent_candles(db.session, cat, "BTC/USDT", "1h", limit=50, cache=cache)
        assert origin == "database" and len(df) == 50
        cache.write_candles("demo", "BTC/USDT", "1h", df)
        again, origin = query.recent_candles(db.session, cat, "BTC/USDT", "1h", limit=50, cache=cache)
    assert origin == "cache"
    assert again.equals(df.astype(again.dtypes))


def test_tickers_computed_from_1m_bars_then_cached(seeded, redis_url):
    import redis

    from app.market import query
    from app.hot.live import LiveCache

    cache = LiveCache(redis.Redis.from_url(redis_url), prefix="cwtest")
    with seeded.app_context():
        cat = query.catalog(db.session)
        ticks = query.tickers(db.session, cat, cache)
    assert [t.symbol for t in ticks] == ["BTC/USDT", "ETH/USDT"]
    assert all(t.price > 0 and t.volume_24h > 0 for t in ticks)
    assert cache.read_ticker("demo", "BTC/USDT") == ticks[0]
