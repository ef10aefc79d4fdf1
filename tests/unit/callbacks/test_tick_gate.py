"""The tick gate: a tab skips its check only under the same counters, in the same bar period, for less
than FULL_CHECK_S since its last full check."""
import pytest

from app.hot.changes import FULL_CHECK_S


@pytest.fixture()
def tick_gate():
    from callbacks import tick_gate  # noqa: PLC0415 - the callbacks package needs the session's Dash app

    return tick_gate


def test_stamp_names_the_counters_and_the_bar_period(tick_gate):
    assert tick_gate.stamp(None, 60) is None
    assert tick_gate.stamp((3, 0, 7), 60, now=125.0) == "3.0.7|2"
    assert tick_gate.stamp((3, 0, 7), 60, now=179.9) == "3.0.7|2"
    assert tick_gate.stamp((3, 0, 7), 60, now=180.0) == "3.0.7|3"  # a forming bar closes by time alone
    assert tick_gate.stamp((1,), None, now=10_000.0) == "1|0"


def test_unchanged_needs_the_same_stamp_and_a_recent_full_check(tick_gate):
    seen = {"stamp": "1.2|5", "checked": 1000.0}
    assert tick_gate.unchanged(seen, "1.2|5", now=1000.0 + FULL_CHECK_S - 1)
    assert not tick_gate.unchanged(seen, "1.3|5", now=1001.0)  # a table was written
    assert not tick_gate.unchanged(seen, "1.2|6", now=1001.0)  # the next bar period began
    assert not tick_gate.unchanged(seen, "1.2|5", now=1000.0 + FULL_CHECK_S)  # too long without a full check
    assert not tick_gate.unchanged(seen, "1.2|5", now=999.0)  # a check "in the future": not trusted
    assert not tick_gate.unchanged(seen, None, now=1001.0)  # counters unreadable
    for bad in (None, "1.2|5", {"stamp": "1.2|5"}, {"stamp": "1.2|5", "checked": True},
                {"stamp": "1.2|5", "checked": "1000"}):
        assert not tick_gate.unchanged(bad, "1.2|5", now=1001.0)


def test_checked_stores_the_stamp_or_drops_a_stale_one(tick_gate):
    state = tick_gate.checked({"view": "v", "n": 3}, "1|2")
    assert state["stamp"] == "1|2" and isinstance(state["checked"], float) and state["view"] == "v"
    assert tick_gate.checked({"view": "v", "stamp": "old", "checked": 1.0}, None) == {"view": "v"}


def test_period_comes_from_the_views_timeframe(tick_gate):
    assert tick_gate.period({"view": "demo|BTC/USDT|1h|sma|-|s20e50|lin"}) == 3600
    assert tick_gate.period({"view": "binance|ETH/USDT|5m"}) == 300
    for bad in (None, {}, {"view": 3}, {"view": "demo|BTC/USDT"}, {"view": "demo|BTC/USDT|7x"}):
        assert tick_gate.period(bad) is None
