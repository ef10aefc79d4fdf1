"""workers.progress: one call records progress on the running job (in-process here)."""
from types import SimpleNamespace

from workers.progress import _inprocess_job, report


def test_report_clamps_and_writes_the_current_jobs_meta():
    job = SimpleNamespace(meta={})
    token = _inprocess_job.set(job)
    try:
        report(140, "storing", rows=3)
        assert job.meta == {"progress": 100.0, "phase": "storing", "rows": 3}
        report(-5, "start")
        assert job.meta["progress"] == 0.0 and job.meta["phase"] == "start"
    finally:
        _inprocess_job.reset(token)


def test_report_outside_a_job_does_nothing():
    report(50, "nothing to record")  # no job: no error
