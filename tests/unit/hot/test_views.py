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


def test_a_cold_view_is_built_once_while_the_others_wait_for_it():
    import threading
    import time

    from app.hot.memory import MemoryStore
    from app.hot.views import ViewCache

    cache, builds, got = ViewCache(MemoryStore()), [], []

    def build():
        builds.append(1)
        time.sleep(0.2)
        return '{"x": 1}'

    threads = [threading.Thread(target=lambda: got.append(cache.single_flight("chart", "k", "v1", build)))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1 and got == [{"x": 1}] * 8
    assert cache.single_flight("chart", "k", "v2", lambda: '{"x": 2}') == {"x": 2}  # a new version builds again


def test_a_waiter_builds_itself_when_the_builder_never_delivers():
    from app.hot.memory import MemoryStore
    from app.hot.views import ViewCache

    store = MemoryStore()
    cache = ViewCache(store)
    store.set("cw:locks:views:chart:k", "v1", ex=30)  # a builder that died holding the lock
    assert cache.single_flight("chart", "k", "v1", lambda: '{"y": 3}', wait_s=0.1) == {"y": 3}
