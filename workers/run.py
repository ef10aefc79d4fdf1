"""How every Candlewise process starts — the one source of truth for the Makefile, the Dockerfile and compose.

    python -m workers.run all [--host H --port P --workers N]   `make run`: web, plus (with REDIS_URL)
                                                                 N RQ workers, rq cron and the stream
    python -m workers.run web                                    gunicorn (deploy/gunicorn.conf.py)
    python -m workers.run worker                                 one RQ worker on every queue
    python -m workers.run cron                                   rq cron (workers/cron_config.py)
    python -m workers.run stream                                 the WebSocket stream (app.stream; needs REDIS_URL)
    python -m workers.run health {web,worker,cron,stream}        container health checks (exit 0 = healthy)

``worker`` and ``cron`` lower their own OS priority by ``WORKER_NICE`` (default 10) before they start,
so the web processes win the CPU whichever way they were launched. The Redis URL reaches ``rq`` through
``RQ_REDIS_URL`` in its environment, not its command line (``ps`` would show a password in it).
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from app.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GUNICORN_CONF = "deploy/gunicorn.conf.py"
CRON_CONFIG = "workers/cron_config.py"
WORKER_CLASS = "workers.worker.Worker"
PROCESSES = ("web", "worker", "cron", "stream")
WORKER_HEARTBEAT_S = 420  # rq worker's default --worker-ttl
CRON_HEARTBEAT_S = 120  # rq's DEFAULT_CRON_SCHEDULER_TTL


def command(process: str, python: str = "python") -> list[str]:
    """The command line that starts ``process`` (compose services use exactly this)."""
    if process not in PROCESSES:
        raise ValueError(f"process must be one of {', '.join(PROCESSES)}, got {process!r}")
    return [python, "-m", "workers.run", process]


def gunicorn_argv() -> list[str]:
    return [str(BIN / "gunicorn"), "-c", GUNICORN_CONF, "wsgi:server"]


def rq_worker_argv() -> list[str]:
    from workers.queues import QUEUE_NAMES

    return [str(BIN / "rq"), "worker", "--worker-class", WORKER_CLASS, "--with-scheduler", *QUEUE_NAMES]


def rq_cron_argv() -> list[str]:
    return [str(BIN / "rq"), "cron", CRON_CONFIG]


def stream_argv() -> list[str]:
    return [sys.executable, "-m", "app.stream"]


def _need_redis(settings: Settings, process: str) -> None:
    if settings.embedded:
        raise SystemExit(f"{process}: REDIS_URL is not set (in embedded mode jobs and the schedule run in-process)")


def web_env(settings: Settings, environ=None) -> dict:
    """gunicorn's environment: with several workers, a multi-process metrics directory."""
    env = dict(os.environ if environ is None else environ, PYTHONPATH=str(ROOT))
    if not settings.embedded and not settings.prometheus_multiproc_dir:
        env["PROMETHEUS_MULTIPROC_DIR"] = str(ROOT / "var" / "prometheus-multiproc")
    return env


def _exec(argv: list[str], env: dict) -> None:
    sys.stdout.flush()
    os.chdir(ROOT)
    os.execve(argv[0], argv, env)


def run_web(settings: Settings) -> None:
    _exec(gunicorn_argv(), web_env(settings))


def rq_env(settings: Settings, environ=None) -> dict:
    """rq's environment: the Redis URL, and no gunicorn metrics directory (jobs record through Redis;
    every forked work horse would otherwise leave its own files there)."""
    env = dict(os.environ if environ is None else environ, PYTHONPATH=str(ROOT), RQ_REDIS_URL=settings.redis_url)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


def run_worker(settings: Settings) -> None:
    _need_redis(settings, "worker")
    os.nice(settings.worker_nice)
    _exec(rq_worker_argv(), rq_env(settings))


def run_cron(settings: Settings) -> None:
    _need_redis(settings, "cron")
    os.nice(settings.worker_nice)
    _exec(rq_cron_argv(), rq_env(settings))


def run_stream(settings: Settings) -> None:
    _need_redis(settings, "stream")
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    _exec(stream_argv(), dict(os.environ, PYTHONPATH=path))


def run_all(settings: Settings, host: str, port: int, workers: int) -> int:
    env = dict(os.environ, GUNICORN_BIND=f"{host}:{port}", PYTHONPATH=str(ROOT))
    children: list[subprocess.Popen] = []
    if settings.embedded:
        print("Embedded mode: SQLite at", settings.database_url, "- jobs and the schedule run in-process.", flush=True)
    else:
        print(f"Production mode: {workers} RQ workers + rq cron (nice +{settings.worker_nice})", flush=True)
        for _ in range(workers):
            children.append(subprocess.Popen(command("worker", sys.executable), cwd=ROOT, env=env))
        children.append(subprocess.Popen(command("cron", sys.executable), cwd=ROOT, env=env))
        print(f"WebSocket stream on ws://{settings.stream_bind}/stream/v1", flush=True)
        children.append(subprocess.Popen(command("stream", sys.executable), cwd=ROOT, env=env))
        # catch up on bars that closed while nothing was running
        subprocess.run([str(BIN / "flask"), "--app", "wsgi:server", "candles", "refresh"], cwd=ROOT, env=env,
                       check=False)
    print(f"Candlewise on http://{host}:{port}", flush=True)
    web = subprocess.Popen(command("web", sys.executable), cwd=ROOT, env=env)
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
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
    return code


# --- health checks ------------------------------------------------------------------------------


def health_web(settings: Settings, timeout: float = 3.0) -> tuple[bool, str]:
    host, _, port = settings.gunicorn_bind.rpartition(":")
    host = "127.0.0.1" if host in ("", "0.0.0.0", "[::]") else host.strip("[]")
    return _http_ok(f"http://{host}:{port}/healthz", timeout)


def _http_ok(url: str, timeout: float) -> tuple[bool, str]:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status == 200, f"{url}: {resp.status}"
    except OSError as exc:
        return False, f"{url}: {exc}"


def health_stream(settings: Settings, timeout: float = 3.0) -> tuple[bool, str]:
    host, _, port = settings.stream_bind.rpartition(":")
    host = "127.0.0.1" if host in ("", "0.0.0.0", "[::]") else host.strip("[]")
    return _http_ok(f"http://{host}:{port}/stream/healthz", timeout)


def health_worker(settings: Settings, hostname: str | None = None) -> tuple[bool, str]:
    """A worker on this host is registered with RQ and has sent a heartbeat recently."""
    from datetime import datetime, timezone

    from rq import Worker

    from app.hot import redis_connection

    _need_redis(settings, "health worker")
    hostname = hostname or socket.gethostname()
    now = datetime.now(timezone.utc)
    mine = [w for w in Worker.all(connection=redis_connection(settings.redis_url)) if w.hostname == hostname]
    fresh = [w for w in mine if w.last_heartbeat is not None
             and (now - _utc(w.last_heartbeat)).total_seconds() < WORKER_HEARTBEAT_S]
    if fresh:
        return True, f"{len(fresh)} worker(s) on {hostname}: {', '.join(w.name for w in fresh)}"
    return False, f"no RQ worker with a recent heartbeat on {hostname} ({len(mine)} registered)"


def health_cron(settings: Settings, hostname: str | None = None) -> tuple[bool, str]:
    """rq cron on this host is registered and has sent a heartbeat recently."""
    from datetime import datetime, timezone

    from rq.cron import CronScheduler

    from app.hot import redis_connection

    _need_redis(settings, "health cron")
    hostname = hostname or socket.gethostname()
    now = datetime.now(timezone.utc)
    mine = [c for c in CronScheduler.all(redis_connection(settings.redis_url), cleanup=False)
            if c.hostname == hostname]
    fresh = [c for c in mine if c.last_heartbeat is not None
             and (now - _utc(c.last_heartbeat)).total_seconds() < CRON_HEARTBEAT_S]
    if fresh:
        return True, f"rq cron on {hostname}: {', '.join(c.name for c in fresh)}"
    return False, f"no rq cron with a recent heartbeat on {hostname} ({len(mine)} registered)"


def _utc(moment):
    from datetime import timezone

    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


HEALTH = {"web": health_web, "worker": health_worker, "cron": health_cron, "stream": health_stream}


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m workers.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="process", required=True)
    everything = sub.add_parser("all", help="make run: web, plus RQ workers, rq cron and the stream when REDIS_URL "
                                            "is set")
    everything.add_argument("--host", default="127.0.0.1")
    everything.add_argument("--port", type=int, default=8050)
    everything.add_argument("--workers", type=int, default=2, help="RQ worker processes (production mode)")
    for name in PROCESSES:
        sub.add_parser(name, help=f"start the {name} process")
    health = sub.add_parser("health", help="exit 0 if this host's process of that kind is healthy")
    health.add_argument("kind", choices=sorted(HEALTH))
    if not argv or argv[0].startswith("-"):
        argv = ["all", *argv]  # `python -m workers.run --port N` keeps working
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse(list(sys.argv[1:] if argv is None else argv))
    settings = Settings.from_env()
    if args.process == "all":
        if args.workers < 1:
            raise SystemExit("--workers must be at least 1")
        return run_all(settings, args.host, args.port, args.workers)
    if args.process == "health":
        ok, message = HEALTH[args.kind](settings)
        print(("healthy: " if ok else "unhealthy: ") + message, flush=True)
        return 0 if ok else 1
    {"web": run_web, "worker": run_worker, "cron": run_cron, "stream": run_stream}[args.process](settings)
    return 0  # not reached: the process replaced itself


if __name__ == "__main__":
    sys.exit(main())
