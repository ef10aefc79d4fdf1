"""Benchmark: ``GET /api/v1/candles`` (10,000 bars of one series, JSON) under gunicorn with 20 concurrent
clients on loopback, against the same series through the Dash callback path (the Market chart).

Run from the repo root (PostgreSQL on 127.0.0.1:5432):

    .venv/bin/python bench/api.py [--requests 400] [--clients 20]

A throwaway database (``cw_bench_api_<random>``, through the admin URL in ``BENCH_PG_URL``, default
``postgresql://postgres@127.0.0.1:5432/test``) gets the migrations, one 1m series of 10,000 bars (prices on
a 0.01 tick and volumes on a 0.00001 step, as an exchange's bars are), a
trader with a read token and a signed-in session. ``gunicorn wsgi:server`` (the whole web app, Dash
included; 2 workers x 8 threads, as deployed) serves it in production mode: hot state, change counters
and rate-limit buckets in the Redis at ``BENCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/15``) under a
random key prefix, removed at the end. Each client thread keeps one
HTTP connection and sends its share of the requests back to back; latency is measured per request on
the client (send to last byte; the candles body is checked once before the run, not decoded per
request). The Dash path is ``POST /_dash-update-component`` for the chart
callback, which reads the latest 300 bars (its own limit) and returns the plotly figure.
Prints ``RESULT api_candles_p95_ms <ms> ms`` (target under 50 ms), the Dash path's numbers and
``RESULT api_candles_304_p95_ms`` (the same request with the ETag of the client's copy: a 304).
Then the push path: a stream process (``python -m workers.run stream`` on the same Redis and prefix) serves one WebSocket client subscribed
to ``market_data``. ``--bars`` times a new 1m bar is stored (committed) and published the way the ingest
job does it (``app.hot.stream.Publisher.bars``); the client records when the bar arrives. The same-run
reference is the polling path: a client polling ``GET /api/v1/candles?limit=1`` every ``--poll-ms`` for
the same bars. Prints ``RESULT stream_bar_to_client_ms`` (p50) and ``RESULT poll_bar_to_client_ms`` (p50).
With ``wrk`` installed (Debian's package), the same two requests are also sent from it for ``--wrk-seconds``
(a C client costs a few microseconds per request, so less of the Python client's own queueing on the
shared cores is in its figures): ``RESULT api_candles_wrk_p95_ms`` and ``RESULT dash_chart_callback_wrk_p95_ms``,
and the gunicorn workers' CPU per request over those runs (psutil, user + system):
``RESULT api_candles_server_cpu_ms``.
``--workers``/``--threads`` try other gunicorn shapes.
The database is dropped at the end.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from market_payload import chart_payload  # noqa: E402

N_BARS = 10_000
SYMBOL, TIMEFRAME = "BTC/USDT", "1m"
PASSWORD = "correct-horse-battery-staple"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(database_url: str, env: dict) -> str:
    """Migrate, store the series, create the user and the token; returns the token."""
    from flask_migrate import upgrade

    from app.auth.tokens import create_token
    from app.auth.users import create_user
    from app.extensions import db
    from app.market import store
    from app.server import create_server
    from app.settings import Settings
    from tests.fakes.candles import make_candles

    server = create_server(Settings.from_env(env))
    with server.app_context():
        upgrade()
        conn = db.session.connection()
        sid = store.get_or_create_series(conn, "binance", SYMBOL, TIMEFRAME)
        bars = make_candles(N_BARS, start="2026-01-01T00:00:00Z", price=40_000.0)
        # on an exchange's tick and step sizes (Binance BTC/USDT: 0.01 and 0.00001), as real bars are
        bars[["open", "high", "low", "close"]] = bars[["open", "high", "low", "close"]].round(2)
        bars["volume"] = bars["volume"].round(5)
        store.bulk_upsert_candles(conn, sid, bars)
        db.session.commit()
        user = create_user("bench@example.com", PASSWORD)
        _row, token = create_token(db.session, user, "bench", ["read"], 1)
        db.session.remove()
        db.engine.dispose()
    return token


def load(n_requests: int, clients: int, make_session, call) -> list[float]:
    """Latencies (ms) of ``n_requests`` calls spread over ``clients`` threads, each with its own session."""
    latencies: list[float] = []
    lock = threading.Lock()
    per = n_requests // clients
    errors: list[str] = []

    def worker():
        session = make_session()
        mine = []
        for _ in range(per):
            t0 = time.perf_counter()
            try:
                status, size = call(session)
            except requests.RequestException as exc:
                errors.append(repr(exc))
                continue
            mine.append((time.perf_counter() - t0) * 1000)
            if status != 200 or size == 0:
                errors.append(f"status {status}")
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"{len(errors)} failed requests, e.g. {errors[0]}")
    return latencies


def session() -> requests.Session:
    """A client session that ignores proxy and netrc settings of the environment: every request goes straight
    to loopback, and no per-request environment lookup costs the client CPU the server shares."""
    s = requests.Session()
    s.trust_env = False
    return s


def fetch(session, method: str, url: str, **kwargs) -> tuple[int, bytes]:
    """One request, its body read in one call (``raw.read()``), then the connection handed back to the session.

    requests' ``.content`` reads a body in 10 KiB chunks: about 2.5 ms of the client's CPU per 1.1 MB
    candles body, on the same two cores as the server (measured with psutil around the load). The body
    bytes are the same; only the client's reading of them is cheaper, for both paths alike."""
    r = session.request(method, url, stream=True, timeout=60, **kwargs)
    try:
        return r.status_code, r.raw.read()
    finally:
        r.close()


def candles_call(session, url: str, params: dict) -> tuple[int, int]:
    """One candles request, timed from send to its last byte (the body is checked once, before the run,
    not decoded on every request: 20 client threads decoding 1.1 MB of JSON each would measure the
    client's GIL, not the server)."""
    status, body = fetch(session, "GET", url, params=params)
    return status, len(body) if status == 200 else 0


def conditional_polls(args, url: str, params: dict, make_session) -> None:
    """The same candles request as a poller sends it: with the ETag of its copy (``If-None-Match``) -> 304."""
    etag = make_session().get(url, params=params, timeout=60).headers["ETag"]

    def call(session):
        status, _body = fetch(session, "GET", url, params=params, headers={"If-None-Match": etag})
        return (200 if status == 304 else status), 1

    t0 = time.perf_counter()
    lat = load(args.requests, args.clients, make_session, call)
    wall = time.perf_counter() - t0
    print(f"GET /api/v1/candles with If-None-Match (304), {len(lat)} requests, {args.clients} clients: "
          f"p50 {pct(lat, 50):.1f} ms, p95 {pct(lat, 95):.1f} ms, {len(lat) / wall:.1f} req/s")
    print(f"RESULT api_candles_304_p95_ms {pct(lat, 95):.1f} ms")


WRK_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %d %d %d %d %.3f %.3f\\n", summary.requests, summary.duration, e.status,
                         e.connect + e.read + e.write + e.timeout, latency:percentile(50) / 1000,
                         latency:percentile(95) / 1000))
end
"""


def wrk(url: str, headers: dict, seconds: int, connections: int, method: str = "GET", body: str | None = None
        ) -> dict | None:
    """The same requests from ``wrk`` (a C load generator: 2 threads, ``connections`` keep-alive connections,
    back to back for ``seconds``), or None when wrk is not installed. Its client costs a few microseconds
    of CPU per request, so on these two shared cores it shows the server's latency with less of the
    Python client's own queueing in it."""
    import shutil
    import tempfile

    exe = shutil.which("wrk")
    if exe is None:
        return None
    lines = [f"wrk.method = {json.dumps(method)}"]
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    if body is not None:
        lines.append(f"wrk.body = [==[{body}]==]")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lines) + "\n" + WRK_DONE)
    try:
        out = subprocess.run([exe, "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "-s", script.name,
                              url], capture_output=True, text=True, timeout=seconds + 60).stdout
    finally:
        os.unlink(script.name)
    found = re.search(r"^WRK (\d+) (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+)$", out, re.MULTILINE)
    if found is None:
        raise SystemExit(f"wrk printed no summary:\n{out}")
    n, duration_us, bad_status, socket_errors = (int(found.group(i)) for i in range(1, 5))
    return {"requests": n, "rps": n / (duration_us / 1e6), "errors": bad_status + socket_errors,
            "p50": float(found.group(5)), "p95": float(found.group(6))}


def server_cpu_s(master_pid: int) -> float:
    """CPU seconds (user + system) the gunicorn workers of ``master_pid`` have used so far (psutil)."""
    import psutil

    total = 0.0
    for worker in psutil.Process(master_pid).children():
        try:
            times = worker.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def stream_latency(database_url: str, token: str, candles_url: str, env: dict, n_bars: int,
                   poll_ms: int) -> tuple[list[float], list[float]]:
    """(push latencies, polling latencies) in ms for ``n_bars`` new bars: store + publish -> seen by the client."""
    import random

    import pandas as pd
    import redis
    from websockets.sync.client import connect

    from app.hot import changes
    from app.hot.changes import ChangeCounters
    from app.hot.stream import Publisher
    from app.market import store

    redis_url, prefix = env["REDIS_URL"], env["REDIS_PREFIX"]
    port = free_port()
    child = dict(env, STREAM_BIND=f"127.0.0.1:{port}",
                 PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    proc = subprocess.Popen([sys.executable, "-m", "workers.run", "stream"], cwd=ROOT, env=child,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    engine = create_engine(database_url)
    publisher = Publisher(redis.Redis.from_url(redis_url), prefix=prefix)
    # the writer's engine bumps the change counters after each commit, as every engine create_server builds
    # does (the ingest job's included): the API reads a series' revision again only when they moved
    counters = ChangeCounters(redis.Redis.from_url(redis_url), prefix=prefix)
    changes.install(engine, lambda: counters)
    pushed, polled, stored = {}, {}, {}
    stop = threading.Event()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/stream/healthz", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("the stream did not start: " + (proc.stderr.read() if proc.poll() is not None else ""))
            time.sleep(0.2)
        with engine.connect() as conn:
            sid = store.find_series(conn, "binance", SYMBOL, TIMEFRAME)
            last = pd.Timestamp(store.last_candle_time(conn, sid))
        with connect(f"ws://127.0.0.1:{port}/stream/v1", additional_headers={"Authorization": f"Bearer {token}"}) as ws:
            ws.recv(timeout=10)  # welcome
            ws.send(json.dumps({"type": "subscribe", "channels": ["market_data"], "symbols": [SYMBOL]}))
            assert json.loads(ws.recv(timeout=10))["type"] == "subscribed"

            def read_stream():
                while not stop.is_set():
                    try:
                        doc = json.loads(ws.recv(timeout=0.5))
                    except TimeoutError:
                        continue
                    except Exception:
                        return
                    if doc["type"] == "event":
                        at = time.perf_counter()
                        for bar in doc["data"]["bars"]:
                            pushed.setdefault(pd.Timestamp(bar["time"]), at)

            def poll():  # every bar since the first new one, so two bars between polls are both seen
                s = session()
                s.headers["Authorization"] = f"Bearer {token}"
                params = {"symbol": SYMBOL, "timeframe": TIMEFRAME, "limit": n_bars + 10,
                          "start": (last + pd.Timedelta(minutes=1)).isoformat()}
                while not stop.is_set():
                    r = s.get(candles_url, params=params, timeout=30)
                    at = time.perf_counter()
                    for bar in r.json()["candles"]:
                        polled.setdefault(pd.Timestamp(bar["time"]), at)
                    stop.wait(poll_ms / 1000)

            threads = [threading.Thread(target=read_stream), threading.Thread(target=poll)]
            for t in threads:
                t.start()
            for i in range(n_bars):
                t = last + pd.Timedelta(minutes=i + 1)
                bar = pd.DataFrame({"open": [40_000.0], "high": [40_010.0], "low": [39_990.0], "close": [40_005.0],
                                    "volume": [1.5]}, index=pd.DatetimeIndex([t], name="time"))
                t0 = time.perf_counter()
                with engine.begin() as conn:  # stored and committed, as the ingest job does before it publishes
                    store.upsert_candles(conn, sid, bar)
                publisher.bars("binance", SYMBOL, TIMEFRAME, bar)
                stored[t] = t0
                time.sleep(random.uniform(0.3, 0.7) * poll_ms / 1000)  # the polls' phase differs bar to bar
            time.sleep(poll_ms / 1000 + 1)
            stop.set()
            for th in threads:
                th.join(10)
        missing = [t for t in stored if t not in pushed or t not in polled]
        if missing:
            raise SystemExit(f"{len(missing)} bars never reached a client, e.g. {missing[0]}")
        return ([(pushed[t] - t0) * 1000 for t, t0 in stored.items()],
                [(polled[t] - t0) * 1000 for t, t0 in stored.items()])
    finally:
        stop.set()
        proc.terminate()
        proc.wait(20)
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--bars", type=int, default=20, help="bars stored and pushed for the stream latency")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (deployed: 2)")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker (deployed: 8)")
    parser.add_argument("--wrk-seconds", type=int, default=20,
                        help="seconds of the same two requests from wrk, when installed (0: skip)")
    parser.add_argument("--poll-ms", type=int, default=1000, help="the polling reference's interval")
    args = parser.parse_args()
    admin_url = make_url(os.environ.get("BENCH_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"))
    name = f"cw_bench_api_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = admin_url.set(database=name).render_as_string(hide_password=False)
    port = free_port()
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    env = dict(os.environ)
    env.update(REDIS_URL=redis_url, REDIS_PREFIX=prefix, DATABASE_URL=database_url,
               SECRET_KEY="bench-secret-key-0123456789", CANDLEWISE_ENV="development",
               MARKET_DATA_SOURCE="demo", CREATE_DEMO_USERS="0", API_RATE_LIMIT="1000000 per minute",
               LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT), WATCHLIST=SYMBOL)
    proc = None
    try:
        token = prepare(database_url, env)
        proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-w", str(args.workers), "--threads", str(args.threads),
                                 "--keep-alive", "75", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
                                 "wsgi:server"],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(base + "/healthz", timeout=10).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("gunicorn did not start: " + (proc.stderr.read() if proc.poll() is not None else ""))
            time.sleep(0.5)

        candles_url = f"{base}/api/v1/candles"
        params = {"symbol": SYMBOL, "timeframe": TIMEFRAME, "limit": N_BARS}

        def api_session():
            s = session()
            s.headers["Authorization"] = f"Bearer {token}"
            return s

        def api_call(s):
            return candles_call(s, candles_url, params)

        check = api_session().get(candles_url, params=params, timeout=60).json()
        assert len(check["candles"]) == N_BARS, len(check["candles"])

        def dash_session():
            s = session()
            page = s.get(base + "/login", timeout=30).text
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
            r = s.post(base + "/login", data={"email": "bench@example.com", "password": PASSWORD, "csrf_token": csrf},
                       headers={"Origin": base}, allow_redirects=False, timeout=30)
            assert r.status_code == 302, r.status_code
            s.headers.update({"Origin": base, "Content-Type": "application/json"})
            return s

        # a first view of the Market chart (candles and volume, as before the overlays): the full figure
        payload = chart_payload(None, 0, SYMBOL, TIMEFRAME, {"overlays": [], "panes": ["volume"]})

        def dash_call(s):
            status, body = fetch(s, "POST", base + "/_dash-update-component", data=payload)
            return status, len(body)

        s = dash_session()
        first = s.post(base + "/_dash-update-component", data=payload, timeout=60)
        if first.status_code != 200 or "candlestick" not in first.text:
            proc.terminate()
            raise SystemExit(f"Dash callback: {first.status_code} {first.text[:300]}\n{proc.stderr.read()[-3000:]}")

        for _warm in range(2):  # every worker process and thread warmed up
            load(args.clients * 2, args.clients, api_session, api_call)
            load(args.clients * 2, args.clients, dash_session, dash_call)
        results = {label: ([], 0.0) for label in ("api", "dash")}
        # in alternating halves, so a change in the shared machine's load falls on both paths alike
        for _half in range(2):
            for label, mk, call in (("api", api_session, api_call), ("dash", dash_session, dash_call)):
                t0 = time.perf_counter()
                lat = load(args.requests // 2, args.clients, mk, call)
                wall = time.perf_counter() - t0
                results[label] = (results[label][0] + lat, results[label][1] + wall)
        api_lat, api_wall = results["api"]
        dash_lat, dash_wall = results["dash"]
        size_kb = len(requests.get(candles_url, params=params, headers={"Authorization": f"Bearer {token}"}).content) / 1024
        print(f"GET /api/v1/candles ({N_BARS:,} bars, {size_kb:,.0f} KiB JSON), {len(api_lat)} requests, "
              f"{args.clients} clients: p50 {pct(api_lat, 50):.1f} ms, p95 {pct(api_lat, 95):.1f} ms, "
              f"{len(api_lat) / api_wall:.1f} req/s")
        print(f"Dash chart callback (300 bars + figure), {len(dash_lat)} requests, {args.clients} clients: "
              f"p50 {pct(dash_lat, 50):.1f} ms, p95 {pct(dash_lat, 95):.1f} ms, {len(dash_lat) / dash_wall:.1f} req/s")
        print(f"RESULT api_candles_p50_ms {pct(api_lat, 50):.1f} ms")
        print(f"RESULT api_candles_p95_ms {pct(api_lat, 95):.1f} ms")
        print(f"RESULT dash_chart_callback_p95_ms {pct(dash_lat, 95):.1f} ms")
        conditional_polls(args, candles_url, params, api_session)
        if args.wrk_seconds > 0:
            from urllib.parse import urlencode

            cookie = "; ".join(f"{k}={v}" for k, v in dash_session().cookies.items())
            runs = {}
            for _half in range(2):  # alternating, as above
                for label, url, method, headers, body in (
                        ("api", f"{candles_url}?{urlencode(params)}", "GET", {"Authorization": f"Bearer {token}"}, None),
                        ("dash", base + "/_dash-update-component", "POST",
                         {"Cookie": cookie, "Origin": base, "Content-Type": "application/json"}, payload)):
                    cpu_before = server_cpu_s(proc.pid)
                    got = wrk(url, headers, args.wrk_seconds // 2 or 1, args.clients, method, body)
                    if got is not None:
                        got["cpu_ms"] = (server_cpu_s(proc.pid) - cpu_before) / max(1, got["requests"]) * 1000
                    if got is None:
                        print("wrk is not installed: the C-client figures are skipped")
                        break
                    if got["errors"]:
                        raise SystemExit(f"wrk: {got['errors']} failed requests on the {label} path")
                    runs.setdefault(label, []).append(got)
            for label, halves in runs.items():
                what = "GET /api/v1/candles" if label == "api" else "Dash chart callback"
                print(f"{what}, wrk {args.clients} connections, two {args.wrk_seconds // 2 or 1} s halves: "
                      f"p50 {' / '.join(f'{h['p50']:.1f}' for h in halves)} ms, "
                      f"p95 {' / '.join(f'{h['p95']:.1f}' for h in halves)} ms, "
                      f"{sum(h['requests'] for h in halves):,} requests, "
                      f"{statistics.mean(h['rps'] for h in halves):.1f} req/s, "
                      f"server CPU {' / '.join(f'{h['cpu_ms']:.2f}' for h in halves)} ms per request")
            if "api" in runs:
                print(f"RESULT api_candles_wrk_p95_ms {max(h['p95'] for h in runs['api']):.1f} ms")
                print(f"RESULT dash_chart_callback_wrk_p95_ms {max(h['p95'] for h in runs['dash']):.1f} ms")
                print(f"RESULT api_candles_server_cpu_ms {statistics.mean(h['cpu_ms'] for h in runs['api']):.2f} ms")
        stream_lat, poll_lat = stream_latency(database_url, token, candles_url, env, args.bars, args.poll_ms)
        print(f"bar stored + published -> WebSocket client, {len(stream_lat)} bars: p50 {pct(stream_lat, 50):.1f} ms, "
              f"p95 {pct(stream_lat, 95):.1f} ms; the same bars by polling every {args.poll_ms} ms: "
              f"p50 {pct(poll_lat, 50):.1f} ms, p95 {pct(poll_lat, 95):.1f} ms")
        print(f"RESULT stream_bar_to_client_ms {pct(stream_lat, 50):.1f} ms")
        print(f"RESULT stream_bar_to_client_p95_ms {pct(stream_lat, 95):.1f} ms")
        print(f"RESULT poll_bar_to_client_ms {pct(poll_lat, 50):.1f} ms")
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n "
                              "AND pid <> pg_backend_pid()"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
        import redis
        r = redis.Redis.from_url(redis_url)
        for key in r.scan_iter(match=f"{prefix}:*", count=1000):
            r.delete(key)


if __name__ == "__main__":
    main()
