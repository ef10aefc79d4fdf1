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


# -- the Market chart's data age (chart_freshness) ------------------------------------------------------

from app.market.freshness import STALE_PERIODS, age_text, chart_freshness  # noqa: E402

H = 3600
NOW_S = NOW.timestamp()  # 10:30 UTC


def _opened(hh_mm: str) -> float:
    return datetime.fromisoformat(f"2026-12-02T{hh_mm}:00+00:00").timestamp()


def test_age_is_measured_from_the_newest_closed_bar_close_and_fresh_up_to_two_periods():
    fresh = chart_freshness(_opened("09:00"), "1h", "binance", "live", "closed", NOW_S)  # closed 10:00
    assert (fresh.age_s, fresh.stale, fresh.text) == (1800.0, False, "data 30 min old")
    one_missing = chart_freshness(_opened("08:00"), "1h", "binance", "live", "closed", NOW_S)
    assert (one_missing.age_s, one_missing.stale) == (5400.0, False)  # 09:00 bar ingest may still be on its way
    edge = chart_freshness(NOW_S - 3 * H, "1h", "binance", "live", None, NOW_S)
    assert (edge.age_s, edge.stale) == (STALE_PERIODS * H, True)  # two bar periods after its close: stale
    assert not chart_freshness(NOW_S - 3 * H + 1, "1h", "binance", "live", None, NOW_S).stale


def test_stale_text_names_the_age_the_feed_and_says_stored_bars_are_shown():
    late = chart_freshness(_opened("07:00"), "1h", "binance", "live", "closed", NOW_S)
    assert late.stale and late.text == ("data 2 h 30 min old — no new 1h bar from binance for 2+ periods, "
                                        "showing stored bars")
    demo = chart_freshness(NOW_S - 14 * 60 - 300, "5m", "demo", "demo", None, NOW_S)
    assert demo.text == "data 14 min old — no new 5m bar from the demo feed for 2+ periods, showing stored bars"
    imported = chart_freshness(NOW_S - 40 * 86400, "1d", "csv", "import", None, NOW_S)
    assert imported.stale and imported.text == ("data 39 d 0 h old — imported bars, no feed keeps them current, "
                                                "showing stored bars")


def test_an_open_or_half_open_breaker_makes_even_fresh_data_stale():
    for state in ("open", "half-open"):
        down = chart_freshness(_opened("10:15"), "15m", "binance", "live", state, NOW_S)  # the latest 15m bar
        assert down.stale and down.age_s == 0.0
        assert down.text == f"data <1 min old — binance feed unavailable (circuit {state}), showing stored bars"
    for state in ("closed", None, "something-else"):
        assert not chart_freshness(_opened("10:15"), "15m", "binance", "live", state, NOW_S).stale
    empty = chart_freshness(None, "1h", "kraken", "live", "open", NOW_S)
    assert empty.stale and empty.text == ("no bars stored — kraken feed unavailable (circuit open), "
                                          "showing stored bars")
    assert chart_freshness(None, "1h", "kraken", "live", "closed", NOW_S) == \
        chart_freshness(None, "1h", "kraken", "live", None, NOW_S)
    assert not chart_freshness(None, "1h", "kraken", "live", None, NOW_S).stale


def test_a_clock_behind_the_bar_close_reads_as_no_age():
    ahead = chart_freshness(NOW_S, "1h", "binance", "live", None, NOW_S)  # "closes" an hour from now
    assert (ahead.age_s, ahead.stale, ahead.text) == (0.0, False, "data <1 min old")


def test_age_text_units():
    assert [age_text(s) for s in (-5, 0, 59.9, 60, 3599, 3600, 5 * H + 12 * 60 + 59, 48 * H - 1, 48 * H,
                                  3 * 86400 + 4 * H + 3599)] == [
        "<1 min", "<1 min", "<1 min", "1 min", "59 min", "1 h 0 min", "5 h 12 min", "47 h 59 min", "2 d 0 h",
        "3 d 4 h"]


@pytest.mark.parametrize("tf", ["1m", "5m", "15m", "1h", "4h", "1d"])
def test_stale_is_the_admin_freshness_table_rule(tf):
    """A chart goes stale exactly when the Admin page's freshness table counts more than one closed bar missing."""
    from app.marketdata import timeframe_seconds

    step = timeframe_seconds(tf)
    last = pd.Timestamp("2026-12-02T00:00:00Z")
    for k in range(0, 5 * 12):
        now = last + pd.Timedelta(seconds=k * step / 12)
        admin = series_freshness(_frame([(1, "binance", "BTC/USDT", tf, None, last.isoformat())]), now)[0]
        chart = chart_freshness(last.timestamp(), tf, "binance", "live", "closed", now.timestamp())
        assert chart.stale == admin.stale, (tf, k)
