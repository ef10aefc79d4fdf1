"""How fresh each stored series is: the age of its last bar and how many closed bars it is behind."""
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
