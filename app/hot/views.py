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

Cold views do not stampede: :meth:`ViewCache.single_flight` lets the first request of a new version take
a lock (``{prefix}:locks:views:{view}:{key}``, ``SET NX``, TTL ``LOCK_TTL_S``) and build; the others
wait up to ``wait_s`` for its bytes instead of all building the same figure at once (and build it
themselves only if it does not come, e.g. the builder died).
"""
from __future__ import annotations

import json
import time

from app.hot.versioned import VersionedCache, checked_version, part

LOCK_TTL_S = 30  # longer than any build; a builder that dies releases the lock by expiry
TTL_S = 900  # views nobody asked for in 15 minutes are dropped; a bar of any timeframe rebuilds on demand


class ViewCache(VersionedCache):
    space, area_name, default_ttl_s = "views", "view", TTL_S

    def read(self, view: str, key: str, version: str):
        """The stored body of exactly this version, or None (missing, expired or another version)."""
        raw = self.store.get(self.key(view, key))
        if raw is None:
            return None
        doc = json.loads(raw)
        return doc["body"] if doc.get("version") == version else None

    def write(self, view: str, key: str, version: str, body_json: str) -> None:
        """Store ``body_json`` (an already encoded JSON value) as this version of the view."""
        checked_version(version)
        doc = '{"version": %s, "body": %s}' % (json.dumps(version), body_json)
        self.store.set(self.key(view, key), doc, ex=self.ttl_s)

    def single_flight(self, view: str, key: str, version: str, build, wait_s: float = 3.0, poll_s: float = 0.02):
        """The stored body of this version, else ``build()`` (which returns the body's JSON text) run by one
        request at a time: the others wait up to ``wait_s`` for its result instead of building too."""
        body = self.read(view, key, version)
        if body is not None:
            return body
        lock = f"{self.prefix}:locks:views:{part(view, 'view')}:{part(key, 'key')}"
        if self.store.set(lock, version, ex=LOCK_TTL_S, nx=True):
            try:
                body_json = build()
                self.write(view, key, version, body_json)
            finally:
                self.store.delete(lock)
            return json.loads(body_json)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            time.sleep(poll_s)
            body = self.read(view, key, version)
            if body is not None:
                return body
        body_json = build()
        self.write(view, key, version, body_json)
        return json.loads(body_json)
