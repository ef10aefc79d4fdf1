"""app.hot.system: the emergency stop every process sees."""
from datetime import datetime, timezone

import pytest

from app.hot.memory import MemoryStore
from app.hot.system import SystemState


def test_stop_and_resume():
    state = SystemState(MemoryStore(), prefix="cw")
    assert not state.is_stopped() and state.stopped() is None
    at = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
    doc = state.stop("admin@example.com", "exchange outage", now=at)
    assert doc == {"by": "admin@example.com", "reason": "exchange outage", "at": "2026-12-01T12:00:00+00:00"}
    assert state.is_stopped() and state.stopped() == doc
    assert state.resume() is True and not state.is_stopped()
    assert state.resume() is False  # nothing in force


@pytest.mark.parametrize("by, reason, field", [("", "x", "by"), ("a", "x" * 501, "reason"), ("a", None, "reason")])
def test_bad_input_names_the_field(by, reason, field):
    state = SystemState(MemoryStore())
    with pytest.raises(ValueError, match=field):
        state.stop(by, reason)
    assert not state.is_stopped()
