"""`make run`: serve the app with gunicorn, plus RQ workers and `rq cron` when REDIS_URL is set."""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

from app.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8050)
    parser.add_argument("--workers", type=int, default=2, help="RQ worker processes (production mode)")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    env = dict(os.environ, GUNICORN_BIND=f"{args.host}:{args.port}", PYTHONPATH=str(ROOT))
    children: list[subprocess.Popen] = []
    if settings.embedded:
        print("Embedded mode: SQLite at", settings.database_url, "- jobs and the schedule run in-process.", flush=True)
    else:
        print(f"Production mode: {args.workers} RQ workers + rq cron on {settings.redis_url}", flush=True)
        queues = ["ingest", "analysis", "ml", "backtests", "alerts"]
        for _ in range(args.workers):
            children.append(subprocess.Popen([str(BIN / "rq"), "worker", "--url", settings.redis_url, *queues],
                                             cwd=ROOT, env=env))
        children.append(subprocess.Popen([str(BIN / "rq"), "cron", "--url", settings.redis_url,
                                          "workers/cron_config.py"], cwd=ROOT, env=env))
        # catch up on bars that closed while nothing was running
        subprocess.run([str(BIN / "flask"), "--app", "wsgi:server", "candles", "refresh"], cwd=ROOT, env=env,
                       check=False)
    print(f"Candlewise on http://{args.host}:{args.port}", flush=True)
    web = subprocess.Popen([str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "wsgi:server"],
                           cwd=ROOT, env=env)
    children.append(web)

    def _stop(*_):
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        code = web.wait()
    finally:
        _stop()
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
    return code


if __name__ == "__main__":
    sys.exit(main())
