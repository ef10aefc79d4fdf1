"""All active rules of one symbol on its latest closed bars, in one pass (pure).

Conditions are computed once per distinct (timeframe, kind, parameters) over the bars, and the
price-level kinds of many rules in one numpy expression (``price.last_many``), so 10,000 rules cost
a few vector operations rather than 10,000 queries or loops over history. Each rule is then gated
(``app.alerts.gating``) on the latest closed bar of its timeframe: only bars up to that one are
read, nothing after it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

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


def _last_two(mask: np.ndarray) -> tuple[bool, bool]:
    n = len(mask)
    return (bool(mask[-1]) if n else False), (bool(mask[-2]) if n > 1 else False)


def evaluate_symbol(symbol: str, rules: list[RuleSpec], bars: dict[str, Bars],
                    last_fired: dict[tuple[int, str], datetime], prefs: dict[int, UserPrefs]) -> list[Firing]:
    """The firings of ``rules`` on the latest closed bar of each timeframe in ``bars``.

    ``last_fired[(rule_id, symbol)]`` is the close time of the rule's previous firing on the symbol.
    """
    usable = {tf for tf, b in bars.items() if len(b)}
    latest = {tf: (bars[tf].times[-1].to_pydatetime(), bars[tf].close_time(len(bars[tf]) - 1).to_pydatetime())
              for tf in usable}
    paused = {u for u, p in prefs.items() if p.paused}
    active = [r for r in rules if (r.symbol is None or r.symbol == symbol) and r.timeframe in usable
              and r.user_id not in paused and not r.gate.paused and not r.gate.finished]
    holders: list[tuple[RuleSpec, bool, float | None]] = []  # (rule, held on the bar before, value)
    cache: dict[tuple, tuple[bool, bool, float | None]] = {}
    batch: dict[tuple[str, str], list[RuleSpec]] = {}
    for r in active:
        if r.kind in price.BATCH_KINDS:
            batch.setdefault((r.timeframe, r.kind), []).append(r)
            continue
        key = (r.timeframe, r.kind, tuple(sorted(r.params.items())))
        hit = cache.get(key)
        if hit is None:
            mask, value = KINDS[r.kind].func(bars[r.timeframe], r.params)
            now, before = _last_two(mask)
            v = value[-1] if len(value) else np.nan
            hit = cache[key] = (now, before, None if not np.isfinite(v) else float(v))
        if hit[0]:
            holders.append((r, hit[1], hit[2]))
    for (tf, kind), group in batch.items():
        b = bars[tf]
        levels = np.fromiter((r.params["level"] for r in group), dtype="float64", count=len(group))
        now = price.last_many(b, kind, levels)
        hit = np.flatnonzero(now)
        if not len(hit):
            continue
        # the level kinds' "held before" is the same test one bar earlier
        before = price.last_many(b, kind, levels[hit], at=-2)
        close = float(b.close[-1])
        holders.extend((group[i], bool(was), close) for i, was in zip(hit.tolist(), before.tolist()))

    firings: list[Firing] = []
    for r, before, value in holders:
        bar_time, close = latest[r.timeframe]
        if not should_fire(True, before, r.gate, close, last_fired.get((r.id, symbol))):
            continue
        p = prefs.get(r.user_id, NO_PREFS)
        qs, qe = (r.quiet_start, r.quiet_end) if r.quiet_start and r.quiet_end else (p.quiet_start, p.quiet_end)
        shown = f"{value:g}" if value is not None else "-"
        firings.append(Firing(
            r.id, r.user_id, symbol, r.timeframe, bar_time, close, value,
            f"{r.name}: {symbol} {r.timeframe} {describe(r.kind, r.params)} (value {shown})"[:500],
            in_quiet_hours(close, qs, qe, p.timezone), r.gate.frequency == "once", r.channels))
    return firings
