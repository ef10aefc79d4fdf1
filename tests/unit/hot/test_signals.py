"""app.hot.signals: the snapshot store's keys, TTL and validation, on the in-process store
(tests/integration runs the stores against the real Redis)."""
import pytest

from app.hot.memory import MemoryStore
from app.hot.signals import SignalCache


def test_signal_cache_keys_and_validation():
    r = MemoryStore()
    cache = SignalCache(r, prefix="cw", ttl_s=60)
    cache.write({"symbol": "BTC/USDT", "fused": {"score": 61.0}})
    assert sorted(r.scan_iter("cw:*")) == ["cw:changes:signals", "cw:signals:BTC/USDT"]
    assert 59 <= r.ttl("cw:signals:BTC/USDT") <= 60
    assert r.get("cw:changes:signals") == b"1"  # the write is a change every open tab re-checks
    assert cache.read("btc/usdt") == {"symbol": "BTC/USDT", "fused": {"score": 61.0}}
    assert cache.read_many(["ETH/USDT"]) == {"ETH/USDT": None}
    with pytest.raises(ValueError):
        SignalCache(r, ttl_s=0)
    with pytest.raises(ValueError):
        cache.key("not a symbol")
