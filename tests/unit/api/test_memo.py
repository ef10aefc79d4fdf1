"""app.api.v1.memo.CounterMemo: an answer is served only under the very counters it was read after, for at
most ``trust_s`` seconds, and nothing is kept without counters."""
from __future__ import annotations

import threading

import pytest

from app.api.v1.memo import CounterMemo


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_served_while_the_counters_are_the_ones_it_was_read_after():
    memo = CounterMemo(trust_s=10, clock=Clock())
    memo.put("tok", (3, 7), "grant")
    assert memo.get("tok", (3, 7)) == "grant"
    assert memo.get("tok", (3, 7)) == "grant"  # not consumed by a hit


@pytest.mark.parametrize("later", [(4, 7), (3, 8), (0, 0)])  # a write to either table; a Redis reset to 0
def test_any_moved_counter_drops_the_entry(later):
    memo = CounterMemo(trust_s=10, clock=Clock())
    memo.put("tok", (3, 7), "grant")
    assert memo.get("tok", later) is None
    assert memo.get("tok", (3, 7)) is None  # dropped, not just hidden: the next read refills it
    assert len(memo) == 0


def test_trusted_for_at_most_trust_s_seconds():
    clock = Clock()
    memo = CounterMemo(trust_s=10, clock=clock)
    memo.put("tok", (1,), "grant")
    clock.now += 9.99
    assert memo.get("tok", (1,)) == "grant"
    clock.now += 0.01  # a lost bump costs at most this long
    assert memo.get("tok", (1,)) is None


def test_nothing_is_kept_or_served_without_counters():
    memo = CounterMemo(clock=Clock())
    memo.put("tok", None, "grant")
    assert len(memo) == 0
    memo.put("tok", (1,), "grant")
    assert memo.get("tok", None) is None  # counters unreadable now: read the database


def test_least_recently_used_go_beyond_max_entries():
    memo = CounterMemo(max_entries=2, clock=Clock())
    memo.put("a", (1,), 1)
    memo.put("b", (1,), 2)
    assert memo.get("a", (1,)) == 1  # "a" is now the most recent
    memo.put("c", (1,), 3)
    assert memo.get("b", (1,)) is None and memo.get("a", (1,)) == 1 and memo.get("c", (1,)) == 3
    assert len(memo) == 2


def test_forget_drops_one_entry():
    memo = CounterMemo(clock=Clock())
    memo.put("a", (1,), 1)
    memo.put("b", (1,), 2)
    memo.forget("a")
    memo.forget("never")
    assert memo.get("a", (1,)) is None and memo.get("b", (1,)) == 2


@pytest.mark.parametrize("kwargs,field", [({"max_entries": 0}, "max_entries"), ({"max_entries": True}, "max_entries"),
                                          ({"trust_s": 0}, "trust_s"), ({"trust_s": "10"}, "trust_s"),
                                          ({"trust_s": float("nan")}, "trust_s")])
def test_bad_bounds_are_refused_naming_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        CounterMemo(**kwargs)


def test_threads_share_one_memo_safely():
    memo = CounterMemo(max_entries=50, clock=Clock())
    errors = []

    def work(n):
        try:
            for i in range(2000):
                memo.put((n, i % 80), (i % 3,), i)
                memo.get((n, (i + 1) % 80), (i % 3,))
        except Exception as exc:  # noqa: BLE001 - collected for the assert
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(memo) == 50
