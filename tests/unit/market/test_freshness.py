"""app.market.freshness: the age of the last bar and the closed bars still missing after it."""
from datetime import datetime, timezone

import pandas as pd
import pytest

from app.market.freshness import series_freshness

NOW = datetime(2026, 12, 2, 10, 30, tzinfo=timezone.utc)


def _frame(rows):
    frame = pd.DataFrame(rows, columns=["id", "exchange", "symbol", "timeframe", "first", "last"])
    frame["last"] = pd.to_datetime(frame["last"], utc=True)
    return frame


def test_up_to_date_behind_and_empty_series():
    frame = _frame([
        (1, "demo", "BTC/USDT", "1h", None, "2026-12-02T09:00:00Z"),   # the last closed 1h bar: fresh
        (2, "demo", "ETH/USDT", "1h", None, "2026-12-02T05:00:00Z"),   # 06..09 missing
        (3, "demo", "BTC/USDT", "5m", None, "2026-12-02T10:25:00Z"),   # the last closed 5m bar: 0
        (4, "demo", "SOL/USDT", "1h", None, None),
    ])
    fresh, behind, forming, empty = series_freshness(frame, NOW)
    assert (fresh.bars_behind, fresh.age_s, fresh.stale) == (0, 5400.0, False)
    assert (behind.bars_behind, behind.stale) == (4, True)
    assert forming.bars_behind == 0
    assert (empty.last_bar, empty.bars_behind, empty.stale) == (None, None, True)


def test_naive_now_is_refused():
    with pytest.raises(ValueError, match="now"):
        series_freshness(_frame([]), datetime(2026, 12, 2))
