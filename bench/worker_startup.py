"""Benchmark: what an RQ worker process loads before its first job, against the web process.

Run from the repo root:  .venv/bin/python bench/worker_startup.py

Each figure is measured in a fresh Python process (the process's own wall time to import and build,
and its peak resident memory), rounds alternating so the machine's drift hits both sides alike:

  * ``worker <queues>``: what ``workers.worker.Worker`` does before it forks work horses — build the
    Flask server without Dash (``workers.context.server``) and import the job modules of its queues;
  * ``web app`` (the reference): ``app.create_app()`` — the Flask server plus every Dash page and
    callback. Before the server factory existed, this is what every worker built for its first job.

The last lines are ``RESULT <name> <value> <unit>``; ratios are worker / web app, medians of the rounds.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 5

PROBE = r"""
import json, resource, sys, time
t0 = time.perf_counter()
kind = sys.argv[1]
if kind == "webapp":
    from app import create_app
    create_app()
else:
    import importlib
    from workers.context import server
    from workers.worker import JOB_MODULES
    server()
    for queue in sys.argv[2].split(","):
        for name in JOB_MODULES[queue]:
            importlib.import_module(name)
seconds = time.perf_counter() - t0
loaded = {m.split(".")[0] for m in sys.modules}
print(json.dumps({"seconds": seconds, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "modules": len(sys.modules),
                  "loaded": sorted(loaded & {"dash", "pages", "callbacks", "plotly", "numba", "tensorflow"})}))
"""

CASES = {
    "worker_ingest": ("worker", "ingest"),
    "worker_analysis": ("worker", "analysis"),
    "worker_all_queues": ("worker", "ingest,analysis,ml,backtests,alerts"),
    "webapp": ("webapp", ""),
}


def run(kind: str, queues: str, env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, kind, queues], capture_output=True, text=True, env=env,
                         cwd=ROOT, timeout=300)
    if out.returncode != 0:
        raise SystemExit(f"{kind} {queues} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    tmp = tempfile.mkdtemp(prefix="cw-bench-worker-")
    env = dict(os.environ, PYTHONPATH=str(ROOT), CANDLEWISE_ENV="testing", SECRET_KEY="bench-secret-key-0123456789",
               DATABASE_URL=f"sqlite:///{tmp}/bench.db", MODEL_DIR=f"{tmp}/models")
    env.pop("REDIS_URL", None)
    for kind, queues in CASES.values():  # warm the disk cache and numba's on-disk cache once
        run(kind, queues, env)
    samples: dict[str, list[dict]] = {name: [] for name in CASES}
    for _ in range(ROUNDS):
        for name, (kind, queues) in CASES.items():
            samples[name].append(run(kind, queues, env))
    med = {name: {k: statistics.median(s[k] for s in runs) for k in ("seconds", "rss_mb", "modules")}
           for name, runs in samples.items()}
    print(f"{'process':20s} {'import+build s':>15s} {'peak RSS MB':>12s} {'modules':>8s}  heavy packages loaded")
    for name, m in med.items():
        print(f"{name:20s} {m['seconds']:15.2f} {m['rss_mb']:12.0f} {m['modules']:8.0f}  "
              f"{', '.join(samples[name][-1]['loaded']) or '-'}")
    for name, m in med.items():
        print(f"RESULT {name}_start_s {m['seconds']:.3f} s")
        print(f"RESULT {name}_rss_mb {m['rss_mb']:.0f} MB")
    web = med["webapp"]
    for name in ("worker_ingest", "worker_all_queues"):
        print(f"RESULT {name}_start_over_webapp {med[name]['seconds'] / web['seconds']:.2f} x")
        print(f"RESULT {name}_rss_over_webapp {med[name]['rss_mb'] / web['rss_mb']:.2f} x")


if __name__ == "__main__":
    main()
