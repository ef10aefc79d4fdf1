"""Versioned binary blobs: an encoded response part built once per version and served to every worker.

The API keeps the encoded rows of a series' latest candles here (``app.api.v1.candle_window``), so a
poll of the same bars costs a small version query and a slice of bytes instead of a read, a frame and
10,000 rows of JSON encoding per request.

Key ``{prefix}:blobs:{area}:{key}`` -> ``<version length: 4 bytes big-endian><version (UTF-8)><payload>``,
TTL ``TTL_S``. A read names the version it wants and gets ``None`` when the stored one differs, so a stale
blob is never served and needs no invalidation; the TTL only bounds how long unused blobs stay in memory.
One blob per key (here: per series), so memory is bounded by the number of series, not by requests.

The store is ``app.hot.kv_store``: Redis in production, this process's ``MemoryStore`` in embedded mode.
"""
from __future__ import annotations

from app.hot.versioned import VersionedCache, checked_version

TTL_S = 300


class BlobCache(VersionedCache):
    space, area_name, default_ttl_s = "blobs", "area", TTL_S

    def read(self, area: str, key: str, version: str) -> memoryview | None:
        """The payload stored at exactly this version (a view on the stored bytes), or None."""
        raw = self.store.get(self.key(area, key))
        if raw is None or len(raw) < 4:
            return None
        n = int.from_bytes(raw[:4], "big")
        if raw[4:4 + n] != version.encode():
            return None
        return memoryview(raw)[4 + n:]

    def write(self, area: str, key: str, version: str, payload: bytes) -> None:
        v = checked_version(version)
        self.store.set(self.key(area, key), len(v).to_bytes(4, "big") + v + bytes(payload), ex=self.ttl_s)
