"""Where a rule would have fired over the last bars (the form's chart preview; pure).

The same condition function and the same gate (``gating.replay``) as production, bar by bar, so
the preview shows what the rule will do, with its frequency and cooldown.
"""
from __future__ import annotations

import numpy as np

from app.alerts.bars import Bars
from app.alerts.gating import Gate, replay
from app.alerts.kinds import KINDS


def preview(bars: Bars, kind: str, params: dict, gate: Gate, last: int = 200) -> list[int]:
    """Indices (into ``bars``) of the firings within the last ``last`` bars."""
    if len(bars) == 0:
        return []
    mask, _value = KINDS[kind].func(bars, params)
    start = max(0, len(bars) - last)
    window = np.asarray(mask, dtype=bool).copy()
    window[:start] = False  # the condition uses earlier bars as history, but only the window fires
    closes = bars.times + (bars.close_time(0) - bars.times[0])
    return replay(window, closes, gate)
