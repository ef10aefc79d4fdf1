"""app.hot.catalog: the cached catalogue of stored series, and app.market.query.catalog reading it."""
from app.hot.catalog import CatalogCache
from app.hot.memory import MemoryStore
from app.market.query import build_catalog


def test_catalog_cache_round_trip_ttl_and_invalidate():
    store = MemoryStore()
    cache = CatalogCache(store, prefix="cw", ttl_s=30)
    assert cache.read() is None
    cache.write([("demo", "BTC/USDT", "1h"), ("binance", "BTC/USDT", "1m")])
    assert cache.read() == [("demo", "BTC/USDT", "1h"), ("binance", "BTC/USDT", "1m")]
    assert 29 <= store.ttl("cw:catalog") <= 30
    cache.invalidate()
    assert cache.read() is None


def test_build_catalog_prefers_real_exchanges_over_demo_and_orders_timeframes():
    cat = build_catalog([("demo", "BTC/USDT", "1h"), ("demo", "BTC/USDT", "1m"), ("binance", "BTC/USDT", "1d"),
                         ("binance", "BTC/USDT", "5m"), ("demo", "ETH/USDT", "1h")])
    assert cat.symbols == ["BTC/USDT", "ETH/USDT"]
    assert cat.exchange == {"BTC/USDT": "binance", "ETH/USDT": "demo"}
    assert cat.timeframes["BTC/USDT"] == ["5m", "1d"] and cat.is_demo("ETH/USDT")
