"""Shared views, built once per version and kept serialised: what every user of a page sees alike.

A chart or table that is the same for every user who looks at the same thing (a series' candlestick
figure, the Signals heat-map and overview rows, a symbol's events chart and score history) is built
by the first request that finds the stored one missing or of an older version, and served to every
later request from here. Per-user parts (status lines, badges) are added on top by the callback.

Key ``{prefix}:views:{view}:{key}`` -> JSON ``{"version": <str>, "body": <JSON value>}``, TTL ``TTL_S``.
A read names the version it wants and gets ``None`` when the stored one differs, so a stale view is
never served and needs no invalidation: the next request of the new version replaces it. The TTL only
bounds how long views nobody asks for stay in memory.

The store is ``app.hot.kv_store``: Redis in production (one copy for every web worker), this process's
``MemoryStore`` in embedded mode.
"""
from __future__ import annotations

import json
import re

TTL_S = 900  # views nobody asked for in 15 minutes are dropped; a bar of any timeframe rebuilds on demand
_PART = re.compile(r"^[A-Za-z0-9_./:|-]{1,128}$")


def _part(value: str, what: str) -> str:
    if not isinstance(value, str) or not _PART.match(value):
        raise ValueError(f"{what} must be 1-128 letters, digits or ._/:|-, got {value!r}")
    return value


class ViewCache:
    def __init__(self, store, prefix: str = "cw", ttl_s: int = TTL_S):
        if not isinstance(ttl_s, int) or isinstance(ttl_s, bool) or ttl_s < 1:
            raise ValueError(f"ttl_s must be a positive number of seconds, got {ttl_s!r}")
        self.store, self.prefix, self.ttl_s = store, prefix, ttl_s

    def key(self, view: str, key: str) -> str:
        return f"{self.prefix}:views:{_part(view, 'view')}:{_part(key, 'key')}"

    def read(self, view: str, key: str, version: str):
        """The stored body of exactly this version, or None (missing, expired or another version)."""
        raw = self.store.get(self.key(view, key))
        if raw is None:
            return None
        doc = json.loads(raw)
        return doc["body"] if doc.get("version") == version else None

    def write(self, view: str, key: str, version: str, body_json: str) -> None:
        """Store ``body_json`` (an already encoded JSON value) as this version of the view."""
        if not isinstance(version, str) or not version:
            raise ValueError(f"version must be a non-empty string, got {version!r}")
        doc = '{"version": %s, "body": %s}' % (json.dumps(version), body_json)
        self.store.set(self.key(view, key), doc, ex=self.ttl_s)
