"""How fresh each stored series is: the age of its last bar and how many closed bars it is behind
(:func:`series_freshness`, the Admin page's table), and what a Market chart says about the age of the data
it shows (:func:`chart_freshness`, the same staleness rule plus the exchange's circuit breaker)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from app.market.gaps import closed_until
from app.marketdata import timeframe_seconds


@dataclass(frozen=True)
class Freshness:
    exchange: str
    symbol: str
    timeframe: str
    last_bar: pd.Timestamp | None   # open time of the newest stored bar
    age_s: float | None             # now minus that open time
    bars_behind: int | None         # closed bars after it that are not stored yet

    @property
    def stale(self) -> bool:
        return self.bars_behind is None or self.bars_behind > 1


def series_freshness(series: pd.DataFrame, now: datetime) -> list[Freshness]:
    """From :func:`app.market.store.list_series` (one query) and the time of the look."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    out = []
    for row in series.itertuples(index=False):
        last = None if pd.isna(row.last) else pd.Timestamp(row.last)
        if last is None:
            out.append(Freshness(row.exchange, row.symbol, row.timeframe, None, None, None))
            continue
        step = pd.Timedelta(seconds=timeframe_seconds(row.timeframe))
        behind = max(0, int((closed_until(now, row.timeframe) - last) / step) - 1)
        out.append(Freshness(row.exchange, row.symbol, row.timeframe, last,
                             (pd.Timestamp(now) - last).total_seconds(), behind))
    return out


# -- the Market chart's data age ----------------------------------------------------------------------
# The rule below is mirrored line for line in app/assets/freshness.js (the browser recomputes the age on
# every interval tick, also while the tick gate skips the chart callback); tests/browser/test_market_freshness.py
# checks that both give the same answer for the same case.

STALE_PERIODS = 2  # a chart is stale when its newest closed bar closed this many bar periods ago, or more
FEED_DOWN = ("open", "half-open")  # breaker states (pybreaker's words, app.hot.breakers) of a feed that is down


@dataclass(frozen=True)
class ChartFreshness:
    age_s: float | None  # now minus the close time of the newest closed bar shown (None: no bar)
    stale: bool
    text: str            # what the chart's freshness line says


def age_text(seconds: float) -> str:
    """``"<1 min"``, ``"14 min"``, ``"5 h 12 min"`` (under two days), ``"3 d 4 h"`` (whole units, rounded down)."""
    s = int(max(0.0, seconds))
    if s < 60:
        return "<1 min"
    if s < 3600:
        return f"{s // 60} min"
    if s < 2 * 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def chart_freshness(last_open_s: float | None, timeframe: str, exchange: str, origin: str, breaker: str | None,
                    now_s: float) -> ChartFreshness:
    """How fresh one chart's data is and what its freshness line says.

    ``last_open_s``: the open time (epoch s) of the newest closed bar the chart shows (None: no bar);
    ``origin``: ``live``, ``demo`` or ``import`` (:mod:`app.market.origins`); ``breaker``: the exchange's
    circuit-breaker state (``closed``, ``open``, ``half-open``; None when unknown: embedded mode, Redis
    unreachable, not an exchange behind a breaker).

    The age is measured from the newest closed bar's *close* (open + one bar period). The chart is
    **stale** when

    * the age is ``STALE_PERIODS`` (2) bar periods or more: the bar after the newest one closed more
      than a bar period ago and is still not stored, i.e. two or more closed bars are missing (the
      Admin page's freshness table flags the same series: ``Freshness.bars_behind > 1``); or
    * the exchange's breaker is open or half-open (:data:`FEED_DOWN`): the feed is failing and no new
      bars can come, however recent the last one is.

    Imported series follow the same rule (nothing keeps them current, and the line says so).
    """
    period = timeframe_seconds(timeframe)
    down = breaker in FEED_DOWN
    age = None if last_open_s is None else max(0.0, now_s - (last_open_s + period))
    late = age is not None and age >= STALE_PERIODS * period
    head = "no bars stored" if age is None else f"data {age_text(age)} old"
    if down:
        return ChartFreshness(age, True, f"{head} — {exchange} feed unavailable (circuit {breaker}), "
                                         "showing stored bars")
    if not late:
        return ChartFreshness(age, False, head)
    if origin == "import":
        why = "imported bars, no feed keeps them current"
    elif origin == "demo":
        why = f"no new {timeframe} bar from the demo feed for {STALE_PERIODS}+ periods"
    else:
        why = f"no new {timeframe} bar from {exchange} for {STALE_PERIODS}+ periods"
    return ChartFreshness(age, True, f"{head} — {why}, showing stored bars")
