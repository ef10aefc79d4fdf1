"""Market page, the data's age and the feeds' state per chart: a thin shell over
:func:`app.market.freshness.chart_freshness` and :func:`app.hot.breaker_states`.

Two halves, so the age keeps moving while the tick gate answers the chart callback with an empty 204:

* the server, every ``FEED_POLL_MS`` (30 s) per tab: one MGET of the exchanges' circuit breakers (None in
  embedded mode or while Redis is unreachable: unknown), no database read; it answers the feeds' state
  (``FEEDS``: the breakers and the server's clock) and each chart's freshness line
  worked out from the chart's store (``chart-seen``: its view and last closed bar);
* the browser, on every interval tick and whenever a chart's store or the feeds' state changes:
  ``app/assets/freshness.js`` works the same line out again from the same inputs, on the server's clock
  (the offset measured when ``FEEDS`` arrived, ``FEED_CLOCK``), without a request.

A store this code did not write (not a mapping, an unknown timeframe, a time that is not an ISO time with
its offset) gives an empty line, never an error.
"""
from __future__ import annotations

import re
import time
from datetime import datetime

from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback

import app.hot as hot
from app.market.freshness import chart_freshness
from app.market.origins import LIVE_EXCHANGES, origin
from app.marketdata import TIMEFRAMES
from callbacks import inputs
from pages.market import (FEED_CLOCK, FEED_POLL, FEEDS, FRESH_CLASS, INTERVAL, SLOTS, STALE_CLASS, cid)

ISO_WITH_OFFSET = re.compile(r".*(Z|[+-][0-9][0-9]:[0-9][0-9])")  # what the browser's Date.parse reads the same way


def now_s() -> float:
    """The server's clock (epoch s); the browser measures its own against it."""
    return time.time()


def seen_series(seen) -> tuple[str, str, float | None] | None:
    """``(exchange, timeframe, last closed bar's open in epoch s or None)`` of a chart's store, or None when
    the store does not describe a chart (missing, or not what ``callbacks.market.chart_tick`` writes)."""
    if not isinstance(seen, dict) or not isinstance(seen.get("view"), str):
        return None
    parts = seen["view"].split("|")
    if len(parts) < 3 or not parts[0] or parts[2] not in TIMEFRAMES:
        return None
    last = seen.get("last")
    if last is None:
        return parts[0], parts[2], None
    if not isinstance(last, str) or len(last) > 40 or not ISO_WITH_OFFSET.fullmatch(last):
        return None
    try:
        opened = datetime.fromisoformat(last.replace("Z", "+00:00"))
        return parts[0], parts[2], opened.timestamp()
    except (ValueError, OverflowError, OSError):
        return None


def describe_seen(seen, feeds, at_s: float) -> tuple[str, str]:
    """A chart's freshness line and its class at ``at_s`` (epoch s) from its store and the feeds' state."""
    series = seen_series(seen)
    if series is None:
        return "", FRESH_CLASS
    exchange, timeframe, last_s = series
    kind = origin(exchange)
    breakers = feeds.get("breakers") if isinstance(feeds, dict) and kind == "live" else None  # demo, imports: none
    breaker = breakers.get(exchange) if isinstance(breakers, dict) else None
    f = chart_freshness(last_s, timeframe, exchange, kind, breaker if isinstance(breaker, str) else None, at_s)
    return f.text, STALE_CLASS if f.stale else FRESH_CLASS


def feeds_state(at_s: float) -> dict:
    """What the browser needs to work the lines out itself: the breakers of the live exchanges (None:
    unknown) and the server's clock."""
    return {"now": at_s, "breakers": hot.breaker_states(LIVE_EXCHANGES)}


def _outputs():
    outs = [Output(FEEDS, "data")]
    for k in SLOTS:
        outs += [Output(cid("freshness", k), "children"), Output(cid("freshness", k), "className")]
    return outs


@callback(*_outputs(), Input(FEED_POLL, "n_intervals"), *[State(cid("chart-seen", k), "data") for k in SLOTS])
def feed_status(*args):
    _tick, *seen = inputs.MARKET_FEED(*args)
    at = now_s()
    feeds = feeds_state(at)
    out = [feeds]
    for s in seen:
        out += list(describe_seen(s, feeds, at))
    return tuple(out)


# The browser's half (app/assets/freshness.js): the offset of its clock from the server's, then each line.
clientside_callback(ClientsideFunction("cw_freshness", "clock"), Output(FEED_CLOCK, "data"), Input(FEEDS, "data"),
                    prevent_initial_call=True)
for _k in SLOTS:
    clientside_callback(
        ClientsideFunction("cw_freshness", "line"),
        Output(cid("freshness", _k), "children", allow_duplicate=True),
        Output(cid("freshness", _k), "className", allow_duplicate=True),
        Input(INTERVAL, "n_intervals"), Input(cid("chart-seen", _k), "data"), Input(FEED_CLOCK, "data"),
        State(FEEDS, "data"), prevent_initial_call=True,
    )
