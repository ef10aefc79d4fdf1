"""workers.schedule: which timeframes close at a minute."""
from datetime import datetime, timezone

from workers.schedule import CRON_BY_TIMEFRAME, due_timeframes

ALL = ("1m", "5m", "15m", "1h", "4h", "1d")


def test_due_timeframes_follow_the_bar_closes():
    at = lambda h, m: datetime(2026, 3, 2, h, m, 30, tzinfo=timezone.utc)  # seconds are ignored
    assert due_timeframes(at(10, 7), ALL) == ["1m"]
    assert due_timeframes(at(10, 15), ALL) == ["1m", "5m", "15m"]
    assert due_timeframes(at(12, 0), ALL) == ["1m", "5m", "15m", "1h", "4h"]
    assert due_timeframes(at(0, 0), ALL) == list(ALL)
    assert due_timeframes(at(0, 0), ("1h", "1d")) == ["1h", "1d"]


def test_every_timeframe_has_a_cadence():
    from app.marketdata import TIMEFRAMES

    assert set(CRON_BY_TIMEFRAME) == set(TIMEFRAMES)


def test_next_refreshes_are_each_timeframes_next_bar_close():
    from datetime import datetime, timezone

    from workers.schedule import next_refreshes

    now = datetime(2026, 12, 2, 6, 14, 30, tzinfo=timezone.utc)
    assert [(n, t.isoformat()) for n, _c, t in next_refreshes(["1d", "1h", "5m"], now)] == [
        ("refresh 5m", "2026-12-02T06:15:00+00:00"), ("refresh 1h", "2026-12-02T07:00:00+00:00"),
        ("refresh 1d", "2026-12-03T00:00:00+00:00")]
