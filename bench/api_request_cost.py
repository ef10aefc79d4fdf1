"""Benchmark: what one ``GET /api/v1/candles`` (10,000 bars, JSON) costs the web process, in counts that a
shared, noisy machine does not change: Python function calls and Redis round trips per request, with the
CPU time beside them. The same series, token and production-mode app as ``bench/api.py``, called in
process through the WSGI interface (no HTTP server, no client), so the figures are the application's own.

Run from the repo root (PostgreSQL on 127.0.0.1:5432, Redis on 127.0.0.1:6379):

    .venv/bin/python bench/api_request_cost.py [--requests 300]
    git worktree add /tmp/ref-cost <commit>
    .venv/bin/python bench/api_request_cost.py --ref /tmp/ref-cost     # the reference, same run, same way

Each checkout is measured in its own process started in that checkout (its code, its ``bench/api.py``
to prepare the data); a checkout whose ``requirements.txt`` does not name ``hiredis`` runs without it,
as it would be installed. Per checkout and kind of answer (a 200 with the body, a 304 for a client
whose ETag is current): Python calls per request (``cProfile``'s count over ``--requests`` requests:
the same every run), Redis commands per request, and CPU per request (``time.process_time``, the
median of three rounds; this one moves with the machine's load).
Prints ``RESULT api_candles_python_calls``, ``RESULT api_candles_redis_calls``, ``RESULT api_candles_cpu_ms``
(the 200s), the same for ``_304``, and with ``--ref`` the reference's as ``RESULT ref_...``.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve()


def measure(n: int) -> dict:
    """In this process, with the current directory's checkout: the figures of both kinds of answer."""
    root = Path.cwd()
    sys.path[:0] = [str(root), str(root / "bench")]
    if "hiredis" not in (root / "requirements.txt").read_text():
        sys.modules["hiredis"] = None  # not this checkout's: redis-py parses replies in Python
    import cProfile
    import pstats

    from sqlalchemy import create_engine, text
    from werkzeug.test import EnvironBuilder

    import api as bench_api

    admin = create_engine(os.environ.get("BENCH_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"),
                          isolation_level="AUTOCOMMIT")
    name = f"cw_bench_cost_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = admin.url.set(database=name).render_as_string(hide_password=False)
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    prefix = f"benchcost{uuid.uuid4().hex[:8]}"
    env = dict(REDIS_URL=redis_url, REDIS_PREFIX=prefix, DATABASE_URL=database_url,
               SECRET_KEY="bench-secret-key-0123456789", CANDLEWISE_ENV="development", MARKET_DATA_SOURCE="demo",
               CREATE_DEMO_USERS="0", API_RATE_LIMIT="1000000 per minute", LOG_LEVEL="WARNING",
               WATCHLIST=bench_api.SYMBOL)
    os.environ.update(env)
    server = None  # the app, once built: its pool is closed before the database is dropped
    try:
        token = bench_api.prepare(database_url, dict(os.environ))
        from redis.connection import Connection

        import wsgi

        server = wsgi.server
        query = f"symbol={bench_api.SYMBOL}&timeframe={bench_api.TIMEFRAME}&limit={bench_api.N_BARS}"
        headers = {"Authorization": f"Bearer {token}"}
        statuses = []

        def start_response(status, _headers, _exc_info=None):
            statuses.append(status)

        def call(environ):
            body = server.wsgi_app(dict(environ), start_response)
            size = sum(len(chunk) for chunk in body)
            if hasattr(body, "close"):
                body.close()
            return size

        plain = EnvironBuilder(path="/api/v1/candles", query_string=query, headers=headers).get_environ()
        for _ in range(20):  # warm: the window encoded, the memo filled
            call(plain)
        etag = server.test_client().get(f"/api/v1/candles?{query}", headers=headers).headers["ETag"]
        conditional = EnvironBuilder(path="/api/v1/candles", query_string=query,
                                     headers={**headers, "If-None-Match": etag}).get_environ()
        sent = [0]
        original = Connection.send_packed_command

        def counting(self, command, check_health=True):
            sent[0] += 1
            return original(self, command, check_health)

        out = {}
        for kind, environ, want in (("200", plain, "200 OK"), ("304", conditional, "304 NOT MODIFIED")):
            statuses.clear()
            size = call(environ)
            if statuses[-1] != want or (kind == "200" and size < 1_000_000):
                raise SystemExit(f"{kind}: got {statuses[-1]} with {size} bytes")
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(n):
                call(environ)
            profile.disable()
            calls = pstats.Stats(profile).total_calls / n
            Connection.send_packed_command = counting
            sent[0] = 0
            for _ in range(n):
                call(environ)
            Connection.send_packed_command = original
            cpu = []
            for _round in range(3):
                t0 = time.process_time()
                for _ in range(n):
                    call(environ)
                cpu.append((time.process_time() - t0) / n * 1000)
            if any(s != want for s in statuses):
                raise SystemExit(f"{kind}: not every answer was {want}")
            out[kind] = {"calls": calls, "redis": sent[0] / n, "cpu_ms": statistics.median(cpu), "bytes": size}
        return out
    finally:
        if server is not None:
            from app.extensions import db

            with server.app_context():
                db.engine.dispose()
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n "
                              "AND pid <> pg_backend_pid()"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        import redis

        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            client.delete(key)


def run_in(checkout: Path, n: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(checkout))
    done = subprocess.run([sys.executable, str(HERE), "--measure", "--requests", str(n)], cwd=checkout, env=env,
                          capture_output=True, text=True, timeout=1800)
    for line in done.stdout.splitlines():
        if line.startswith("COST "):
            return json.loads(line[5:])
    raise SystemExit(f"measuring {checkout} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300, help="requests per kind and figure")
    parser.add_argument("--ref", type=Path, help="a reference checkout, measured after this one in the same run")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    if args.measure:
        print("COST " + json.dumps(measure(args.requests)))
        return
    sides = [("", HERE.parent.parent)] + ([("ref_", args.ref.resolve())] if args.ref else [])
    for label, checkout in sides:
        got = run_in(checkout, args.requests)
        for kind in ("200", "304"):
            f = got[kind]
            print(f"{label or 'this '}{checkout} {kind} ({f['bytes']:,} bytes): {f['calls']:,.0f} Python calls, "
                  f"{f['redis']:.2f} Redis commands, {f['cpu_ms']:.3f} ms CPU per request")
        for kind, suffix in (("200", ""), ("304", "_304")):
            f = got[kind]
            print(f"RESULT {label}api_candles_python_calls{suffix} {f['calls']:.0f} calls")
            print(f"RESULT {label}api_candles_redis_calls{suffix} {f['redis']:.2f} commands")
            print(f"RESULT {label}api_candles_cpu_ms{suffix} {f['cpu_ms']:.3f} ms")


if __name__ == "__main__":
    main()
