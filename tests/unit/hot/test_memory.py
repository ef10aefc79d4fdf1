"""app.hot.memory: the in-process store embedded mode uses in place of Redis."""
from app.hot.memory import MemoryStore


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_values_expire_after_their_ttl_and_read_as_missing():
    clock = Clock()
    store = MemoryStore(clock=clock)
    store.set("cw:a", "1", ex=10)
    store.set("cw:b", b"2")
    assert store.get("cw:a") == b"1" and store.ttl("cw:a") == 10 and store.ttl("cw:b") == -1
    clock.now += 10
    assert store.get("cw:a") is None and store.ttl("cw:a") == -2
    assert store.mget(["cw:a", "cw:b"]) == [None, b"2"]


def test_set_nx_incr_delete_and_scan():
    store = MemoryStore()
    assert store.set("cw:k", "x", nx=True) and store.set("cw:k", "y", nx=True) is None
    assert store.get("cw:k") == b"x"
    assert store.incr("cw:n") == 1 and store.incr("cw:n", 5) == 6
    assert list(store.scan_iter("cw:*")) == ["cw:k", "cw:n"]
    assert store.delete("cw:k", "cw:missing") == 1 and list(store.scan_iter("cw:k*")) == []
