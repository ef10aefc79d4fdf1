"""Frequency modes, cooldown, expiry, paused and quiet hours (in the user's time zone)."""
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd

from app.alerts.gating import Gate, in_quiet_hours, replay, should_fire

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
CLOSES = [T0 + timedelta(hours=i + 1) for i in range(8)]
MASK = np.array([0, 1, 1, 1, 0, 1, 1, 0], dtype=bool)


def test_every_time_fires_on_each_closed_bar_the_condition_holds():
    assert replay(MASK, CLOSES, Gate(frequency="every_time")) == [1, 2, 3, 5, 6]


def test_once_per_bar_fires_when_the_condition_turns_true():
    assert replay(MASK, CLOSES, Gate(frequency="once_per_bar")) == [1, 5]


def test_once_fires_the_first_time_only():
    assert replay(MASK, CLOSES, Gate(frequency="once")) == [1]
    assert not should_fire(True, False, Gate(frequency="once"), CLOSES[5], CLOSES[1])
    assert not should_fire(True, False, Gate(frequency="once", finished=True), CLOSES[5], None)


def test_not_again_within_the_cooldown():
    # fired at bar 1 (closes T0+2h); bars 2, 3 close 1-2 h later; bar 5 closes 4 h later, bar 6 5 h later
    assert replay(MASK, CLOSES, Gate(frequency="every_time", cooldown_s=3 * 3600)) == [1, 5]
    assert replay(MASK, CLOSES, Gate(frequency="every_time", cooldown_s=4 * 3600)) == [1, 5]  # the boundary fires
    assert replay(MASK, CLOSES, Gate(frequency="every_time", cooldown_s=4 * 3600 + 1)) == [1, 6]
    # the previous firing (stored) counts too
    assert replay(MASK, CLOSES, Gate(frequency="every_time", cooldown_s=3600), last_fired_close=CLOSES[1]) == [2, 3, 5, 6]


def test_expiry_and_paused():
    assert replay(MASK, CLOSES, Gate(frequency="every_time", expires_at=CLOSES[3])) == [1, 2]
    assert replay(MASK, CLOSES, Gate(frequency="every_time", paused=True)) == []


def test_condition_false_never_fires():
    assert not should_fire(False, False, Gate(), CLOSES[0], None)


def test_replay_accepts_pandas_timestamps():
    closes = pd.DatetimeIndex(CLOSES)
    assert replay(MASK, closes, Gate(frequency="once_per_bar")) == [1, 5]


def test_quiet_hours_in_the_users_time_zone_wrapping_midnight():
    # 22:00-07:00 in Berlin (UTC+1 in January)
    assert in_quiet_hours(datetime(2026, 1, 1, 21, 30, tzinfo=timezone.utc), "22:00", "07:00", "Europe/Berlin")  # 22:30
    assert in_quiet_hours(datetime(2026, 1, 2, 5, 59, tzinfo=timezone.utc), "22:00", "07:00", "Europe/Berlin")  # 06:59
    assert not in_quiet_hours(datetime(2026, 1, 2, 6, 0, tzinfo=timezone.utc), "22:00", "07:00", "Europe/Berlin")
    assert not in_quiet_hours(datetime(2026, 1, 1, 20, 59, tzinfo=timezone.utc), "22:00", "07:00", "Europe/Berlin")
    # same UTC instant, UTC zone: 21:30 is not quiet
    assert not in_quiet_hours(datetime(2026, 1, 1, 21, 30, tzinfo=timezone.utc), "22:00", "07:00", "UTC")
    # a daytime window and no window
    assert in_quiet_hours(datetime(2026, 7, 1, 3, 30, tzinfo=timezone.utc), "12:00", "13:00", "Asia/Tokyo")  # 12:30
    assert not in_quiet_hours(datetime(2026, 7, 1, 3, 30, tzinfo=timezone.utc), None, None, "Asia/Tokyo")
