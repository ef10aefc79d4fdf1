"""workers.queues: the one list of queues and their limits, and the in-process runner."""
import pytest
from flask import Flask

from workers.queues import POLICIES, QUEUE_NAMES, InProcessRunner, JobRef, _check_queue


def test_every_queue_has_explicit_limits_and_consistent_retries():
    assert QUEUE_NAMES == ("ingest", "analysis", "ml", "backtests", "alerts")
    for name, policy in POLICIES.items():
        assert policy.job_timeout > 0 and policy.result_ttl > 0 and policy.failure_ttl > 0, name
        assert len(policy.retry_intervals) == policy.retries, name


def test_unknown_queue_is_refused_with_the_list():
    with pytest.raises(ValueError, match="unknown queue 'nope'; expected one of ingest, analysis"):
        _check_queue("nope")


_attempts = []


def flaky_job(fail_times: int) -> str:
    _attempts.append(1)
    if len(_attempts) <= fail_times:
        raise RuntimeError(f"attempt {len(_attempts)} failed")
    return "done"


def test_inprocess_runner_retries_by_the_queue_policy_then_reports(monkeypatch):
    runner = InProcessRunner(Flask("t"), workers=1)
    _attempts.clear()
    job = runner.enqueue("ingest", f"{__name__}.flaky_job", (2,), {})
    runner.wait(10)
    done = runner.fetch(job.id)
    assert isinstance(done, JobRef) and done.status == "finished" and done.result == "done" and len(_attempts) == 3
    _attempts.clear()
    job = runner.enqueue("ml", f"{__name__}.flaky_job", (1,), {})  # the ml queue does not retry
    runner.wait(10)
    failed = runner.fetch(job.id)
    assert failed.status == "failed" and "attempt 1 failed" in failed.error and len(_attempts) == 1
