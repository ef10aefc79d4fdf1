"""Benchmark: ingest and analysis jobs on a real RQ worker, this checkout against an earlier revision.

Run from the repo root (needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379):

    .venv/bin/python bench/pipeline.py                 # reference: the revision before the server factory
    .venv/bin/python bench/pipeline.py --before <rev>  # any other revision

For each checkout, in alternating rounds: a throwaway PostgreSQL database seeded with 3 days of the
offline demo data (``flask db upgrade``, ``flask demo seed``), then the same jobs enqueued by dotted
path — one ``workers.ingest.refresh`` per watch-list symbol and timeframe and one
``workers.analysis.analyze`` per symbol — and one ``rq worker --burst`` (with this checkout's
``--worker-class`` when it has one) that runs them and whatever they hand on. Per-job times are
RQ's own ``started_at``/``ended_at``; the burst's wall time includes the worker's start.
The reference revision is checked out with ``git worktree`` into a temporary folder and removed after.
Redis database 15 is used and emptied.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/15"
DEFAULT_BEFORE = "b5607e9"  # the last revision whose workers built the whole Dash app for a job
ROUNDS = 2

ENQUEUE = r"""
import json, sys
from redis import Redis
from rq import Queue
conn = Redis.from_url(sys.argv[1])
ids = []
for symbol in ("BTC/USDT", "ETH/USDT"):
    for tf in ("1m", "5m", "15m", "1h", "4h", "1d"):
        ids.append(Queue("ingest", connection=conn).enqueue("workers.ingest.refresh", "demo", symbol, tf,
                                                            job_timeout=600).id)
    ids.append(Queue("analysis", connection=conn).enqueue("workers.analysis.analyze", "demo", symbol,
                                                          job_timeout=600).id)
print(json.dumps(ids))
"""

COLLECT = r"""
import json, sys
from redis import Redis
from rq import Queue
from rq.job import Job
from rq.registry import FinishedJobRegistry, FailedJobRegistry
conn = Redis.from_url(sys.argv[1])
out = {"finished": [], "failed": 0}
for name in ("ingest", "analysis", "ml", "backtests", "alerts"):
    q = Queue(name, connection=conn)
    out["failed"] += len(FailedJobRegistry(queue=q))
    for job in Job.fetch_many(FinishedJobRegistry(queue=q).get_job_ids(), connection=conn):
        if job is not None and job.started_at and job.ended_at:
            out["finished"].append([job.func_name, (job.ended_at - job.started_at).total_seconds()])
print(json.dumps(out))
"""


def sh(cmd, cwd, env, timeout=900) -> str:
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed in {cwd}:\n{out.stdout[-1500:]}\n{out.stderr[-3000:]}")
    return out.stdout


def psql(sql: str) -> None:
    subprocess.run(["psql", PG_ADMIN, "-q", "-c", sql], check=True, capture_output=True)


def one_round(checkout: Path) -> dict:
    name = f"cw_bench_{uuid.uuid4().hex[:8]}"
    psql(f'CREATE DATABASE "{name}"')
    env = dict(os.environ, PYTHONPATH=str(checkout), DATABASE_URL=f"postgresql://postgres@127.0.0.1:5432/{name}",
               REDIS_URL=REDIS_URL, SECRET_KEY="bench-secret-key-0123456789", CANDLEWISE_ENV="testing",
               MARKET_DATA_SOURCE="demo", CREATE_DEMO_USERS="0", DEMO_DAYS="3",
               MODEL_DIR=tempfile.mkdtemp(prefix="cw-bench-models-"), WORKER_NICE="0")
    flask = [str(BIN / "flask"), "--app", "wsgi:server"]
    redis_cli = ["redis-cli", "-n", "15"]
    try:
        sh(flask + ["db", "upgrade"], checkout, env)
        sh(flask + ["demo", "seed"], checkout, env)
        subprocess.run(redis_cli + ["flushdb"], check=True, capture_output=True)
        sh([sys.executable, "-c", ENQUEUE, REDIS_URL], checkout, env)
        worker_class = (["--worker-class", "workers.worker.Worker"]
                        if (checkout / "workers" / "worker.py").exists() else [])
        started = time.perf_counter()
        sh([str(BIN / "rq"), "worker", "--url", REDIS_URL, "--burst", *worker_class, "ingest", "analysis", "ml"],
           checkout, env)
        wall = time.perf_counter() - started
        got = json.loads(sh([sys.executable, "-c", COLLECT, REDIS_URL], checkout, env).strip().splitlines()[-1])
    finally:
        subprocess.run(redis_cli + ["flushdb"], capture_output=True)
        psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    by_func: dict[str, list[float]] = {}
    for func, seconds in got["finished"]:
        by_func.setdefault(func, []).append(seconds)
    return {"wall": wall, "failed": got["failed"], "jobs": by_func}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=DEFAULT_BEFORE, help="the reference revision")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cw-bench-before-"))
    before = tmp / "checkout"
    subprocess.run(["git", "worktree", "add", "--detach", str(before), args.before], cwd=ROOT, check=True,
                   capture_output=True)
    try:
        rounds = {"before": [], "after": []}
        for _ in range(ROUNDS):
            rounds["before"].append(one_round(before))
            rounds["after"].append(one_round(ROOT))
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(before)], cwd=ROOT, capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    summary = {}
    for side, runs in rounds.items():
        jobs: dict[str, list[float]] = {}
        for r in runs:
            for func, times in r["jobs"].items():
                jobs.setdefault(func, []).extend(times)
        summary[side] = {"wall": statistics.median(r["wall"] for r in runs), "failed": sum(r["failed"] for r in runs),
                         "jobs": {f: (statistics.median(t), len(t)) for f, t in jobs.items()}}
        print(f"{side} ({args.before if side == 'before' else 'this checkout'}): burst wall "
              f"{summary[side]['wall']:.1f} s, failed jobs {summary[side]['failed']}")
        for func, (med, n) in sorted(summary[side]["jobs"].items()):
            print(f"  {func:32s} median {med * 1000:8.1f} ms over {n} jobs")
    for func, label in (("workers.ingest.refresh", "ingest_job"), ("workers.analysis.analyze", "analysis_job")):
        b, a = summary["before"]["jobs"][func][0], summary["after"]["jobs"][func][0]
        print(f"RESULT {label}_before_ms {b * 1000:.1f} ms")
        print(f"RESULT {label}_after_ms {a * 1000:.1f} ms")
        print(f"RESULT {label}_speedup {b / a:.2f} x")
    print(f"RESULT burst_wall_before_s {summary['before']['wall']:.2f} s")
    print(f"RESULT burst_wall_after_s {summary['after']['wall']:.2f} s")
    print(f"RESULT failed_jobs {summary['before']['failed'] + summary['after']['failed']} jobs")


if __name__ == "__main__":
    main()
