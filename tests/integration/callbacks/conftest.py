"""The interval-tick tests call the callbacks through the Flask test client in this process. A tick gate's
stamp names the bar period it was made in (one minute for a 1m view), so two calls either side of a minute
boundary differ by time alone and the second is (rightly) a full check. These tests ask what the counters
and the data decide, so for each test the gate's clock starts in the middle of an hour's middle minute and
moves a millisecond per reading: every check is later than the one before, and no bar period ends."""
import itertools
import time
import types

import pytest


@pytest.fixture(autouse=True)
def still_tick_clock(monkeypatch):
    import callbacks.tick_gate as tick_gate

    start = (time.time() // 3600) * 3600 + 1830.0  # mid-minute and mid-hour: every bucket stays put
    readings = itertools.count()
    monkeypatch.setattr(tick_gate, "time", types.SimpleNamespace(time=lambda: start + next(readings) / 1000))
