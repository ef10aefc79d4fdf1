"""``workers.worker.SimpleWorker`` (for the alerts queue): jobs run in the worker process itself (no
fork per job), with the same preparation (server built, job modules imported) as the forking worker."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rq import Queue

from tests.conftest import ROOT, TEST_SECRET

pytestmark = pytest.mark.integration


def whose_process() -> dict:
    """A job for the test: which process ran it, and whether the worker had imported the alerts jobs."""
    return {"pid": os.getpid(), "preloaded": "workers.alerts" in sys.modules}


def test_the_simple_worker_runs_jobs_in_its_own_process(redis_url, redis_client, fresh_pg_url):
    q = Queue("alerts", connection=redis_client)
    jobs = [q.enqueue(f"{__name__}.whose_process") for _ in range(2)]
    env = dict(os.environ, PYTHONPATH=str(ROOT), REDIS_URL=redis_url, DATABASE_URL=fresh_pg_url,
               SECRET_KEY=TEST_SECRET, CANDLEWISE_ENV="testing", MARKET_DATA_SOURCE="demo", CREATE_DEMO_USERS="0")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "rq"), "worker", "--url", redis_url, "--burst",
                             "--worker-class", "workers.worker.SimpleWorker", "alerts"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert proc.wait(timeout=120) == 0
    results = [j.return_value(refresh=True) for j in jobs]
    assert all(r["preloaded"] for r in results)
    assert {r["pid"] for r in results} == {proc.pid}  # both jobs in the worker process (a forking one: two horses)
