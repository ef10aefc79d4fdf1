"""All active rules of one symbol on its closed bars since the last evaluation, in one pass (pure).

Conditions are computed once per distinct (timeframe, kind, parameters) over the bars, and the
price-level kinds of many rules in one numpy expression per evaluated bar (``price.last_many``), so
10,000 rules cost a few vector operations rather than 10,000 queries or loops over history.

Which bars: the latest closed bar of each timeframe always, and, when several bars closed since the
previous evaluation (a backfill, a late batch, a lost job), every one of them, oldest first, up to
``MAX_CATCH_UP`` per timeframe. ``since[timeframe]`` is the open time of the newest bar evaluated
before (``store.cursors``); a rule takes part in the catch-up only for bars that closed after it was
created or last changed (``RuleSpec.since``), so a new or resumed rule never fires on old history.
Each rule is gated (``app.alerts.gating``) bar by bar in time order, exactly as if the bars had
come one at a time: its frequency, cooldown and expiry decide, with its own firings earlier in the
same pass counting as previous firings. Only bars up to the one evaluated are read, nothing after.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from app.alerts import price
from app.alerts.bars import Bars
from app.alerts.gating import Gate, in_quiet_hours, should_fire
from app.alerts.kinds import KINDS, describe


@dataclass(frozen=True)
class RuleSpec:
    id: int
    user_id: int
    name: str
    symbol: str | None  # None: every watch-list symbol
    timeframe: str
    kind: str
    params: dict
    channels: tuple[str, ...] = ("inapp",)
    gate: Gate = field(default_factory=Gate)
    quiet_start: str | None = None
    quiet_end: str | None = None
    since: datetime | None = None  # created or last changed: catch-up bars must close after this


@dataclass(frozen=True)
class UserPrefs:
    timezone: str = "UTC"
    quiet_start: str | None = None
    quiet_end: str | None = None
    paused: bool = False


@dataclass(frozen=True)
class Firing:
    rule_id: int
    user_id: int
    symbol: str
    timeframe: str
    bar_time: datetime
    bar_close: datetime
    value: float | None
    message: str
    quiet: bool  # in quiet hours: recorded in the app, outside channels suppressed
    finishes: bool  # a 'once' rule: finished after this firing
    channels: tuple[str, ...]


NO_PREFS = UserPrefs()


MAX_CATCH_UP = 100  # bars per timeframe evaluated in one pass after a gap (bounded work per job)


def bars_to_evaluate(bars: Bars, since: datetime | None, cap: int = MAX_CATCH_UP) -> np.ndarray:
    """Indices of the bars to evaluate, oldest first: those opened after ``since`` (the newest bar
    evaluated before), at most ``cap`` of them, and always the latest closed bar."""
    n = len(bars)
    if n == 0:
        return np.zeros(0, dtype=int)
    if since is None:
        return np.array([n - 1])
    first = int(bars.times.searchsorted(pd.Timestamp(since), side="right"))
    return np.arange(max(first, n - cap, 0) if first < n else n - 1, n)


def evaluate_symbol(symbol: str, rules: list[RuleSpec], bars: dict[str, Bars],
                    last_fired: dict[tuple[int, str], datetime], prefs: dict[int, UserPrefs],
                    since: dict[str, datetime] | None = None) -> list[Firing]:
    """The firings of ``rules`` on the bars of each timeframe in ``bars`` that closed since ``since``
    (per timeframe; only the latest closed bar where it has none), in bar order.

    ``last_fired[(rule_id, symbol)]`` is the close time of the rule's previous firing on the symbol.
    """
    since = since or {}
    usable = {tf for tf, b in bars.items() if len(b)}
    todo = {tf: bars_to_evaluate(bars[tf], since.get(tf)) for tf in usable}
    paused = {u for u, p in prefs.items() if p.paused}
    active = [r for r in rules if (r.symbol is None or r.symbol == symbol) and r.timeframe in usable
              and r.user_id not in paused and not r.gate.paused and not r.gate.finished]
    hits: dict[int, list[tuple[int, bool, float | None]]] = {}  # rule id -> (bar index, held before, value)
    by_id = {r.id: r for r in active}
    cache: dict[tuple, list[tuple[int, bool, float | None]]] = {}
    batch: dict[tuple[str, str], list[RuleSpec]] = {}
    for r in active:
        if r.kind in price.BATCH_KINDS:
            batch.setdefault((r.timeframe, r.kind), []).append(r)
            continue
        key = (r.timeframe, r.kind, tuple(sorted(r.params.items())))
        found = cache.get(key)
        if found is None:
            mask, value = KINDS[r.kind].func(bars[r.timeframe], r.params)
            mask = np.asarray(mask, dtype=bool)
            found = cache[key] = []
            for i in todo[r.timeframe].tolist():
                if mask[i]:
                    v = value[i] if len(value) else np.nan
                    found.append((i, bool(mask[i - 1]) if i > 0 else False,
                                  None if not np.isfinite(v) else float(v)))
        if found:
            hits[r.id] = found
    for (tf, kind), group in batch.items():
        b = bars[tf]
        levels = np.fromiter((r.params["level"] for r in group), dtype="float64", count=len(group))
        for i in todo[tf].tolist():
            now = price.last_many(b, kind, levels, at=i)
            hit = np.flatnonzero(now)
            if not len(hit):
                continue
            # the level kinds' "held before" is the same test one bar earlier
            before = price.last_many(b, kind, levels[hit], at=i - 1) if i > 0 else np.zeros(len(hit), dtype=bool)
            close = float(b.close[i])
            for j, was in zip(hit.tolist(), before.tolist()):
                hits.setdefault(group[j].id, []).append((i, bool(was), close))

    firings: list[Firing] = []
    latest = {tf: len(bars[tf]) - 1 for tf in usable}
    when = {tf: {i: (bars[tf].times[i].to_pydatetime(), bars[tf].close_time(i).to_pydatetime())
                 for i in todo[tf].tolist()} for tf in usable}  # (open, close) per evaluated bar, once
    for rule_id, found in hits.items():
        r = by_id[rule_id]
        previous = last_fired.get((r.id, symbol))
        p = prefs.get(r.user_id, NO_PREFS)
        qs, qe = (r.quiet_start, r.quiet_end) if r.quiet_start and r.quiet_end else (p.quiet_start, p.quiet_end)
        for i, before, value in (found if len(found) == 1 else sorted(found, key=lambda h: h[0])):
            bar_time, close = when[r.timeframe][i]
            if i != latest[r.timeframe] and r.since is not None and close <= r.since:
                continue  # catching up: not on bars that closed before the rule was made or changed
            if not should_fire(True, before, r.gate, close, previous):
                continue
            shown = f"{value:g}" if value is not None else "-"
            firings.append(Firing(
                r.id, r.user_id, symbol, r.timeframe, bar_time, close, value,
                f"{r.name}: {symbol} {r.timeframe} {describe(r.kind, r.params)} (value {shown})"[:500],
                in_quiet_hours(close, qs, qe, p.timezone), r.gate.frequency == "once", r.channels))
            previous = close
            if r.gate.frequency == "once":
                break
    firings.sort(key=lambda f: (f.bar_time, f.rule_id))
    return firings
