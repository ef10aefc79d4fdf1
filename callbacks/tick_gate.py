"""The first question of every interval tick: can anything this tab shows have changed since it last looked?

The answer comes from the change counters in hot state (:mod:`app.hot.changes`, one ``MGET``) and the
clock: a stamp of the counters of the tables a view reads, plus the period of its bars (a forming bar
becomes a closed one by time alone). A tab keeps the stamp of its last full check in its ``dcc.Store``
(``"stamp"``, ``"checked"``). Same stamp, checked less than ``FULL_CHECK_S`` ago, and the tick was only
the interval firing: nothing can have changed, and the callback answers an empty 204 without reading the
database. Otherwise it runs its full check, which compares the data itself, and stores the new stamp.
"""
from __future__ import annotations

import time

import app.hot as hot
from app.hot.changes import FULL_CHECK_S
from app.marketdata import TIMEFRAMES


def counters(tables: tuple[str, ...]) -> tuple[int, ...] | None:
    """The tables' change counters now (None when hot state cannot say: then every tick checks the data)."""
    store = hot.change_counters()
    return store.read(tables) if store is not None else None


def stamp(values: tuple[int, ...] | None, period_s: int | None = None, now: float | None = None) -> str | None:
    """The stamp of counter ``values`` in the current period of ``period_s`` seconds (None: no stamp)."""
    if values is None:
        return None
    bucket = int((time.time() if now is None else now) // period_s) if period_s else 0
    return ".".join(str(v) for v in values) + f"|{bucket}"


def period(seen) -> int | None:
    """The bar period (s) of the view a store describes (its ``view`` is ``exchange|symbol|timeframe|...``)."""
    try:
        return int(TIMEFRAMES[seen["view"].split("|")[2]].total_seconds())
    except (TypeError, KeyError, IndexError, AttributeError):
        return None


def unchanged(seen, now_stamp: str | None, now: float | None = None) -> bool:
    """Whether the tab's last full check (``seen``, its store) saw ``now_stamp`` less than FULL_CHECK_S ago."""
    if now_stamp is None or not isinstance(seen, dict):
        return False
    checked = seen.get("checked")
    if not isinstance(checked, (int, float)) or isinstance(checked, bool):
        return False
    age = (time.time() if now is None else now) - checked
    return seen.get("stamp") == now_stamp and 0 <= age < FULL_CHECK_S


def checked(state: dict, now_stamp: str | None) -> dict:
    """``state`` with the stamp its full check was made under (none stored when there is no stamp)."""
    if now_stamp is None:
        return {k: v for k, v in state.items() if k not in ("stamp", "checked")}
    return {**state, "stamp": now_stamp, "checked": time.time()}
