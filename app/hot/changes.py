"""What changed since a tab last looked: one counter per table, bumped after a write to it commits.

Every interval tick of every open tab asks "is there anything new for me?". Answering that from the
data means database reads per tick (the tail of bars, the user's alert levels and fires, trades,
predictions). Instead, the writers leave a trace: after a transaction that inserted, updated or deleted
rows of a table commits, that table's counter goes up by one, and so does the counter of a hot-state
cache when a job writes it (``candles`` for the live candle and ticker caches, ``signals`` for the
signal snapshots). A tick reads the counters it depends on in one ``MGET`` and, when they are the ones
its last full check saw, answers "nothing new" without opening a database connection.

How the trace is left (:func:`install`, once per engine; every process builds its engine through
``app.server.create_server``): SQLAlchemy's ``after_cursor_execute`` event notes the table of each
statement sent that begins ``INSERT INTO``, ``UPDATE`` or ``DELETE FROM`` (ORM flushes, Core and text
statements alike); ``commit`` moves the noted tables to "committed",
``rollback`` forgets them; the pool's ``checkin`` (after the commit has finished, when the connection is
handed back) bumps the committed tables' counters. A write that bypasses SQLAlchemy's statements (the
COPY path, ``app.market.bulk``) calls :func:`mark` on its connection.

Key ``{prefix}:changes:{name}`` -> integer, no TTL. Readers never trust the counters alone for long: a
tab runs its full check at least every :data:`FULL_CHECK_S` seconds (a lost bump, a Redis restart that
reset the counters), and whenever the counters cannot be read.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable

from sqlalchemy import event
from sqlalchemy.sql.dml import UpdateBase

log = logging.getLogger(__name__)

FULL_CHECK_S = 30  # the longest a tab trusts unchanged counters without looking at the data itself
DIRTY, COMMITTED = "cw_changes_dirty", "cw_changes_committed"
_TEXT_DML = re.compile(r"^\s*(?:insert\s+into|update|delete\s+from)\s+\"?([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)


class ChangeCounters:
    """The counters in a key-value store (Redis, or this process's memory in embedded mode)."""

    def __init__(self, store, prefix: str = "cw"):
        self.store, self.prefix = store, prefix

    def key(self, name: str) -> str:
        return f"{self.prefix}:changes:{name}"

    def bump(self, names: Iterable[str]) -> None:
        for name in sorted(set(names)):
            self.store.incr(self.key(name))

    def read(self, names: Iterable[str]) -> tuple[int, ...] | None:
        """The counters of ``names`` in one round trip (0 for one never bumped); None when unreadable."""
        names = list(names)
        try:
            raw = self.store.mget([self.key(n) for n in names])
        except Exception:  # noqa: BLE001 - unreadable counters mean "check the data", never a failed tick
            log.debug("change counters unreadable", exc_info=True)
            return None
        try:
            return tuple(int(v) if v is not None else 0 for v in raw)
        except (TypeError, ValueError):
            return None


def written_table(statement) -> str | None:
    """The table an INSERT/UPDATE/DELETE statement (a construct or SQL text) writes; None otherwise."""
    if isinstance(statement, UpdateBase):
        return getattr(statement.table, "name", None)
    if isinstance(statement, str):
        match = _TEXT_DML.match(statement)
        return match.group(1).lower() if match else None
    return None


def mark(conn, table: str) -> None:
    """Note a write the statement events cannot see (a COPY into ``table``) on SQLAlchemy connection ``conn``."""
    conn.info.setdefault(DIRTY, set()).add(table)


def install(engine, counters: Callable[[], ChangeCounters | None]) -> None:
    """Bump ``counters()``'s counters after each committed write through ``engine`` (see the module doc)."""
    if getattr(engine, "_cw_changes_installed", False):
        return
    engine._cw_changes_installed = True

    @event.listens_for(engine, "after_cursor_execute")
    def _noted(conn, cursor, statement, parameters, context, executemany):
        table = written_table(statement)  # the SQL sent: ORM flushes, Core and text statements alike
        if table is not None:
            conn.info.setdefault(DIRTY, set()).add(table)

    @event.listens_for(engine, "commit")
    def _committing(conn):
        dirty = conn.info.pop(DIRTY, None)
        if dirty:
            conn.info.setdefault(COMMITTED, set()).update(dirty)

    @event.listens_for(engine, "rollback")
    def _rolled_back(conn):
        conn.info.pop(DIRTY, None)

    @event.listens_for(engine.pool, "checkin")
    def _handed_back(dbapi_connection, record):
        if record is None:
            return
        committed = record.info.pop(COMMITTED, None)
        record.info.pop(DIRTY, None)  # never committed
        if not committed:
            return
        try:
            target = counters()
            if target is not None:
                target.bump(committed)
        except Exception:  # noqa: BLE001 - a lost bump costs a tab one full check, never a failed request
            log.warning("could not bump change counters for %s", sorted(committed), exc_info=True)
