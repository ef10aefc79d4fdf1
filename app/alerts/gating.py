"""When a rule whose condition holds may fire: frequency, cooldown, expiry, paused; and quiet hours.

Frequencies (every evaluation is at a bar close, never inside a forming bar):

* ``once``: the first bar on which the condition holds; the rule is then finished.
* ``once_per_bar``: a bar on which the condition turns true (it did not hold on the bar before):
  one event per episode, the alert a trader sets for "RSI goes above 70".
* ``every_time``: every closed bar on which the condition holds.

Crossing conditions hold on one bar only, so for them the last two coincide. A cooldown of ``s``
seconds blocks firings whose bar closes less than ``s`` after the previous firing's bar close.
Quiet hours (``HH:MM``-``HH:MM`` in the user's time zone, wrapping midnight when start > end)
never block the event: it is recorded and shown in the app, and the outside channels are
suppressed while they last.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np


@dataclass(frozen=True)
class Gate:
    frequency: str = "once_per_bar"
    cooldown_s: int = 0
    expires_at: datetime | None = None
    paused: bool = False
    finished: bool = False


def should_fire(holds: bool, held_before: bool, gate: Gate, bar_close: datetime,
                last_fired_close: datetime | None) -> bool:
    """Whether a rule fires on a bar that closed at ``bar_close`` (``holds``: its condition there)."""
    if not holds or gate.paused or gate.finished:
        return False
    if gate.expires_at is not None and bar_close >= gate.expires_at:
        return False
    if gate.frequency == "once" and last_fired_close is not None:
        return False
    if gate.frequency == "once_per_bar" and held_before:
        return False
    if last_fired_close is not None and gate.cooldown_s > 0 \
            and bar_close < last_fired_close + timedelta(seconds=gate.cooldown_s):
        return False
    return True


def replay(mask: np.ndarray, closes, gate: Gate, last_fired_close: datetime | None = None) -> list[int]:
    """The bar indices a rule would have fired on over a history (the form's preview; the same
    decision :func:`should_fire` makes bar by bar in production)."""
    fired: list[int] = []
    mask = np.asarray(mask, dtype=bool)
    for i in np.flatnonzero(mask):
        close = closes[i].to_pydatetime() if hasattr(closes[i], "to_pydatetime") else closes[i]
        before = bool(mask[i - 1]) if i > 0 else False
        if should_fire(True, before, gate, close, last_fired_close):
            fired.append(int(i))
            last_fired_close = close
            if gate.frequency == "once":
                break
    return fired


def parse_hhmm(value: str) -> time:
    hh, mm = value.split(":")
    return time(int(hh), int(mm))


def in_quiet_hours(when: datetime, start: str | None, end: str | None, tz: str = "UTC") -> bool:
    """Whether ``when`` (tz-aware) falls in [start, end) local time of ``tz``; False when unset."""
    if not start or not end:
        return False
    local = when.astimezone(ZoneInfo(tz)).time().replace(second=0, microsecond=0)
    s, e = parse_hhmm(start), parse_hhmm(end)
    if s == e:
        return False
    if s < e:
        return s <= local < e
    return local >= s or local < e
