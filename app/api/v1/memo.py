"""What an API request would read from the database, kept by this process while the change counters say
it is unchanged: a poll of an unchanged series then needs no database connection at all.

Every ``/api/v1`` request used to run two indexed queries before its view did anything (the token row
with its user, and a series' revision), each with a pool checkout and its ``SELECT 1`` ping: about
1.5 ms of a web worker's 2.5-3.5 ms for a candles poll that ends in a 304. Both answers change only when
a row of ``api_tokens``, ``users`` or ``series`` does, and every committed write to those tables bumps its
change counter (:mod:`app.hot.changes`; a new, updated or back-filled candle advances ``series.revision``
in its own transaction, so it bumps ``series`` too).

So a request reads the three counters once, in one ``MGET`` (:func:`counters`, kept on ``g``), before any
database read. An answer read from the database is kept (:class:`CounterMemo`, one per server, in its
``extensions``) with the counters read *before* it: when a later request sees the same counters, nothing
that answer depends on was committed in between, and it is served from memory. A write that commits
after the counters were read bumps them, so the next request reads the database again; a write racing
with the read is never hidden, because the kept counters are older than the read.

Bounds on trust, as for the pages' tick gate:

* an entry is served for at most :data:`TRUST_S` seconds, then read again (a bump lost in a Redis hiccup
  delays a revocation by at most that long);
* unreadable counters (a Redis outage) mean "read the database", never a failed request;
* in embedded mode (no Redis) nothing is kept: the counters are this process's memory there, and a
  command-line revocation in another process would never bump them.

Expiry is checked on every request against the kept ``expires_at``; a use due to be recorded
(``app.auth.tokens.TOUCH_EVERY``) goes to the database, which records it.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from flask import current_app, g

import app.hot as hot

WATCHED = ("api_tokens", "users", "series")
TRUST_S = 10.0
MAX_ENTRIES = 4096


class CounterMemo:
    """Entries keyed by anything hashable, each with the counter values read before it; least recently
    used beyond ``max_entries`` are dropped. Thread-safe (gunicorn's threads share it)."""

    def __init__(self, max_entries: int = MAX_ENTRIES, trust_s: float = TRUST_S, clock=time.monotonic):
        if not isinstance(max_entries, int) or isinstance(max_entries, bool) or max_entries < 1:
            raise ValueError(f"max_entries must be a positive integer, got {max_entries!r}")
        if not isinstance(trust_s, (int, float)) or isinstance(trust_s, bool) or not trust_s > 0:
            raise ValueError(f"trust_s must be a positive number of seconds, got {trust_s!r}")
        self.max_entries, self.trust_s, self.clock = max_entries, float(trust_s), clock
        self._items: OrderedDict[Hashable, tuple[tuple, float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, seen: tuple | None):
        """The value kept for ``key`` if it was read under the counters ``seen`` less than ``trust_s`` ago."""
        if seen is None:
            return None
        with self._lock:
            held = self._items.get(key)
            if held is None:
                return None
            kept, at, value = held
            if kept != seen or self.clock() - at >= self.trust_s:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, seen: tuple | None, value) -> None:
        """Keep ``value`` as read after the counters ``seen`` (nothing is kept without counters)."""
        if seen is None:
            return
        with self._lock:
            self._items[key] = (seen, self.clock(), value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._items.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)


def memo(name: str) -> CounterMemo:
    """This server's memo called ``name`` (``tokens``, ``series``), made on first use."""
    memos = current_app.extensions.setdefault("cw_api_memos", {})
    found = memos.get(name)
    if found is None:
        found = memos.setdefault(name, CounterMemo())
    return found


def counters() -> dict[str, int] | None:
    """The watched tables' change counters as this request first read them (one ``MGET``; kept on ``g``),
    or None: embedded mode, or the counters could not be read."""
    if "api_changes" in g:
        return g.api_changes
    settings = current_app.config["CW_SETTINGS"]
    values = None
    if not settings.embedded:
        target = hot.change_counters(settings)
        read = target.read(WATCHED) if target is not None else None
        values = dict(zip(WATCHED, read)) if read is not None else None
    g.api_changes = values
    return values


def seen(*tables: str) -> tuple | None:
    """This request's counters of ``tables`` (the memo key's dependency), or None when there are none."""
    values = counters()
    return None if values is None else tuple(values[t] for t in tables)
