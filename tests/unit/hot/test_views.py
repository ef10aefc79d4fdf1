"""app.hot.views: shared views served only at the version asked for."""
import pytest

from app.hot.memory import MemoryStore
from app.hot.views import TTL_S, ViewCache


def test_a_view_is_served_only_at_its_version_and_expires():
    clock = [0.0]
    store = MemoryStore(clock=lambda: clock[0])
    views = ViewCache(store, prefix="t")
    views.write("market-chart", "demo|BTC/USDT|1m", "v1", '{"figure": {"data": [1, 2]}}')
    assert views.read("market-chart", "demo|BTC/USDT|1m", "v1") == {"figure": {"data": [1, 2]}}
    assert views.read("market-chart", "demo|BTC/USDT|1m", "v2") is None  # another version: never stale
    assert views.read("market-chart", "demo|ETH/USDT|1m", "v1") is None
    assert store.ttl("t:views:market-chart:demo|BTC/USDT|1m") == TTL_S
    clock[0] += TTL_S
    assert views.read("market-chart", "demo|BTC/USDT|1m", "v1") is None


def test_bad_names_and_versions_are_refused_with_the_field_named():
    views = ViewCache(MemoryStore())
    with pytest.raises(ValueError, match="key"):
        views.read("market-chart", "a b", "v")
    with pytest.raises(ValueError, match="view"):
        views.write("", "k", "v", "1")
    with pytest.raises(ValueError, match="version"):
        views.write("market-chart", "k", "", "1")
    with pytest.raises(ValueError, match="ttl_s"):
        ViewCache(MemoryStore(), ttl_s=0)
