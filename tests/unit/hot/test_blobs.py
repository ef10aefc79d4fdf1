"""app.hot.blobs: versioned binary blobs, served only at the version asked for."""
import pytest

from app.hot.blobs import TTL_S, BlobCache
from app.hot.memory import MemoryStore


def test_a_blob_is_served_only_at_its_version_and_expires():
    clock = [0.0]
    store = MemoryStore(clock=lambda: clock[0])
    blobs = BlobCache(store, prefix="t")
    blobs.write("api-candles", "7", "v1", b"\x00\x01payload")
    assert bytes(blobs.read("api-candles", "7", "v1")) == b"\x00\x01payload"
    assert blobs.read("api-candles", "7", "v10") is None  # a version sharing a prefix is another version
    assert blobs.read("api-candles", "7", "v") is None
    assert blobs.read("api-candles", "8", "v1") is None
    blobs.write("api-candles", "7", "v2", b"newer")  # one blob per key: the new version replaces the old
    assert blobs.read("api-candles", "7", "v1") is None and bytes(blobs.read("api-candles", "7", "v2")) == b"newer"
    assert store.ttl("t:blobs:api-candles:7") == TTL_S
    clock[0] += TTL_S
    assert blobs.read("api-candles", "7", "v2") is None


def test_bad_names_and_versions_are_refused_with_the_field_named():
    blobs = BlobCache(MemoryStore())
    with pytest.raises(ValueError, match="key"):
        blobs.read("api-candles", "a b", "v")
    with pytest.raises(ValueError, match="area"):
        blobs.write("", "k", "v", b"1")
    with pytest.raises(ValueError, match="version"):
        blobs.write("api-candles", "k", "", b"1")
    with pytest.raises(ValueError, match="ttl_s"):
        BlobCache(MemoryStore(), ttl_s=0)
