"""workers/sweeper.py: which started jobs are abandoned (their worker dead or silent)."""
import pytest

from workers.sweeper import StartedEntry, abandoned


def test_a_job_whose_worker_is_not_registered_any_more_is_abandoned():
    entries = [StartedEntry("a", "w1"), StartedEntry("b", "w2"), StartedEntry("c", None)]
    assert abandoned(entries, {"w1": 1000.0}, now=1010.0) == ["b", "c"]


def test_a_job_whose_worker_stopped_beating_is_abandoned_and_a_fresh_beat_keeps_it():
    entries = [StartedEntry("old", "w1"), StartedEntry("new", "w2"), StartedEntry("unknown-beat", "w3")]
    beats = {"w1": 0.0, "w2": 900.0, "w3": None}
    assert abandoned(entries, beats, now=1000.0, stale_after=180.0) == ["old"]


def test_stale_after_must_be_positive():
    with pytest.raises(ValueError, match="stale_after"):
        abandoned([], {}, now=0.0, stale_after=0)
