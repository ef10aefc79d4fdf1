"""An in-process key-value store with expiry, for embedded mode's one process (no Redis there).

It answers the handful of Redis calls the hot-state stores make (``get``, ``set`` with ``ex``,
``mget``, ``delete``, ``incr``, ``ttl``, ``scan_iter``), so a store's code is the same in both
modes. It holds process-local state by design: embedded mode serves and runs jobs in one process.
"""
from __future__ import annotations

import fnmatch
import threading
import time


class MemoryStore:
    def __init__(self, clock=time.monotonic):
        self._data: dict[str, tuple[bytes, float | None]] = {}
        self._lock = threading.Lock()
        self._clock = clock

    @staticmethod
    def _key(key) -> str:
        return key.decode() if isinstance(key, bytes) else str(key)

    @staticmethod
    def _value(value) -> bytes:
        if isinstance(value, bytes):
            return value
        return str(value).encode()

    def _live(self, key: str):
        item = self._data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and self._clock() >= expires:
            del self._data[key]
            return None
        return value

    def get(self, key):
        with self._lock:
            return self._live(self._key(key))

    def mget(self, keys):
        with self._lock:
            return [self._live(self._key(k)) for k in keys]

    def set(self, key, value, ex: int | float | None = None, nx: bool = False):
        with self._lock:
            k = self._key(key)
            if nx and self._live(k) is not None:
                return None
            self._data[k] = (self._value(value), None if ex is None else self._clock() + float(ex))
            return True

    def incr(self, key, amount: int = 1) -> int:
        with self._lock:
            k = self._key(key)
            current = self._live(k)
            value = int(current or 0) + amount
            expires = self._data[k][1] if k in self._data else None
            self._data[k] = (str(value).encode(), expires)
            return value

    def delete(self, *keys) -> int:
        with self._lock:
            gone = 0
            for key in keys:
                gone += self._data.pop(self._key(key), None) is not None
            return gone

    def ttl(self, key) -> int:
        with self._lock:
            k = self._key(key)
            if self._live(k) is None:
                return -2
            expires = self._data[k][1]
            return -1 if expires is None else max(0, int(round(expires - self._clock())))

    def scan_iter(self, match: str = "*", count: int | None = None):
        with self._lock:
            keys = [k for k in list(self._data) if self._live(k) is not None and fnmatch.fnmatchcase(k, match)]
        return iter(sorted(keys))
