"""Incremental analysis: a timeframe whose bars did not change since the last run is not recomputed.

An analysis job runs after every new closed bar, and scores every stored timeframe of the symbol. A new
1m bar leaves the 5m..1d frames exactly as they were most minutes; their indicators, events and signal
are a pure function of those bars (and the scoring config, the symbol and the model prediction), so the
result of the last run is reused when all of them are the same. "The same" is decided by a fingerprint
of the whole frame analysed (every timestamp and every OHLCV value, not just the last bar time), so a
revised bar (the exchange correcting a close, a re-ingest) is recomputed. The result is therefore
identical to a full recompute by construction; ``tests/unit/analysis/test_incremental.py`` checks it on
random data, including a revised past bar.

:class:`FrameMemo` keeps results in this process (bounded LRU); :class:`BlobMemo` keeps them in hot state
(``app.hot.blobs``, area ``analysis``) so every forked RQ work horse shares them. Both answer
``get(key, fingerprint)`` / ``put(key, fingerprint, value)``.
"""
from __future__ import annotations

import hashlib
import pickle
from collections import OrderedDict

import numpy as np
import pandas as pd

OHLCV = ("open", "high", "low", "close", "volume")


def fingerprint(frame: pd.DataFrame, *parts) -> str:
    """A digest of every bar of ``frame`` (times and OHLCV) and of ``parts`` (config, symbol, prediction...)."""
    h = hashlib.blake2b(digest_size=20)
    h.update(np.ascontiguousarray(frame.index.asi8).tobytes())
    for col in OHLCV:
        h.update(np.ascontiguousarray(frame[col].to_numpy(dtype=np.float64)).tobytes())
    h.update(repr(parts).encode())
    return h.hexdigest()


class FrameMemo:
    """The last result per key, in this process (at most ``maxsize`` keys, least recently used dropped)."""

    def __init__(self, maxsize: int = 512):
        if not isinstance(maxsize, int) or maxsize < 1:
            raise ValueError(f"maxsize must be a positive integer, got {maxsize!r}")
        self.maxsize, self._items = maxsize, OrderedDict()
        self.hits = self.misses = 0

    def get(self, key: str, fp: str):
        item = self._items.get(key)
        if item is None or item[0] != fp:
            self.misses += 1
            return None
        self._items.move_to_end(key)
        self.hits += 1
        return item[1]

    def put(self, key: str, fp: str, value) -> None:
        self._items[key] = (fp, value)
        self._items.move_to_end(key)
        while len(self._items) > self.maxsize:
            self._items.popitem(last=False)


class BlobMemo:
    """The last result per key in hot state (a ``BlobCache``), shared by every worker process.

    Values are pickled: they are our own ``Signal`` and events frame, written by our workers into the
    same private Redis that RQ already keeps its pickled jobs in; a read whose fingerprint differs is a miss.
    A hot-state failure is a miss (the run computes), never an error."""

    AREA = "analysis"

    def __init__(self, blobs):
        self.blobs = blobs
        self.hits = self.misses = 0

    def get(self, key: str, fp: str):
        try:
            raw = self.blobs.read(self.AREA, key, fp)
            value = pickle.loads(bytes(raw)) if raw is not None else None
        except Exception:  # noqa: BLE001 - a cold or unreachable store only costs a recompute
            value = None
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def put(self, key: str, fp: str, value) -> None:
        try:
            self.blobs.write(self.AREA, key, fp, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        except Exception:  # noqa: BLE001
            pass
