"""Load test in production shape: N signed-in users on their pages' 5-second intervals, over HTTP.

Run from the repo root::

    .venv/bin/python bench/load.py                        # 50 users, 30 s, this checkout
    .venv/bin/python bench/load.py --users 10,25,50 --seconds 90
    git worktree add /tmp/ref-load <commit>                # a reference checkout ...
    .venv/bin/python bench/load.py --ref /tmp/ref-load     # ... measured in the same run, same way

For each checkout (this one, then ``--ref``): a throwaway PostgreSQL database (through the admin URL
in ``BENCH_PG_URL``, default ``postgresql://postgres@127.0.0.1:5432/postgres``) and a free Redis
database (claimed the way the test suite claims one, in ``BENCH_REDIS_URL``'s database 0); migrations,
the demo market data, the first analysis on an RQ worker, one trader account; then
``python -m workers.run web`` (gunicorn with ``deploy/gunicorn.conf.py``: 2 workers x 8 threads unless
``GUNICORN_WORKERS``/``GUNICORN_THREADS`` say otherwise), one RQ worker and ``rq cron`` (both at
``WORKER_NICE``), all started from that checkout's code.

Each simulated user logs in through ``/login`` (CSRF token, same-origin ``Origin``), fetches
``/_dash-dependencies`` and, like the browser, POSTs ``/_dash-update-component`` with the real payload
(``output``/``outputs``/``inputs``/``state``/``changedPropIds``) for every callback its page fires on
``dcc.Interval.n_intervals`` once per interval, after the page's initial calls (its load, which builds
the whole figure; timed and printed apart as "page load", not counted as interval ticks). Half the users
are on Market, half on Signals; symbols and timeframes go round-robin. Each user keeps the props its responses set (as the browser's store
does), so a ``dcc.Store`` the server wrote comes back as ``State`` on the next tick. Ticks are
open-loop (every ``--interval-ms`` from a random phase); a tick whose previous request is still running
fires as soon as it ends, and counts as offered but not served in time.

Printed per checkout and user count: per-callback p50/p95/p99 latency, errors, served/offered req/s,
bytes per tick (one user's interval responses of one tick, as sent on the wire with
``Accept-Encoding: gzip``), host CPU, and the longest ``idle in transaction`` seen in
``pg_stat_activity`` (polled every 100 ms); then an 8-client back-to-back run on Market's
``update_chart`` (each client a user that keeps its own state, as a browser tab would). The last
lines are the ``RESULT`` lines for this checkout (and ``RESULT ref_...`` for the reference): issue
#18's (``interval_p95_ms_<N>_users``, ``update_chart_rps``, ``bytes_per_tick_median``,
``idle_in_transaction_max_s``) and issue #16's (``interval_p95_ms``, ``error_rate``, ``memory_growth_mb``:
web and worker resident memory at the start and end (gunicorn with its workers, the RQ worker without a
work horse it may be running); sampled every
``--memory-every`` seconds too, and ``memory_growth_after_first_minute_mb`` from the first sample at or
after 60 s to the end, which tells a warm-up step from a steady climb). Memory is counted from the end of
a warm-up (``--warmup-seconds``, default 30: the smallest user count's traffic, so every page, callback
and lazily imported module has been served once, as on a server that has been up a while);
``memory_growth_from_cold_mb`` counts from before it, the one-time warm-up included.

``--reliability`` is issue #16's run: 50 users for 3 minutes plus one backtest submitted through the REST
API (a personal token with the ``trade`` scope) every ``--backtest-every`` seconds.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import redis
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
PAGES = {"market": "/", "signals": "/signals"}
INTERVALS = {"market": "market-interval", "signals": "signals-interval"}
# every interval a page's server callbacks listen to, in ticks of INTERVALS[page] (the Market page's feed
# state is read every 30 s: pages.market.FEED_POLL_MS)
PAGE_INTERVALS = {"market": {"market-interval": 1, "market-feed-poll": 6}, "signals": {"signals-interval": 1}}
PASSWORD = "bench-load-passphrase-" + secrets.token_hex(4)


# ------------------------------------------------------------------ environment


def _pg_url(url: str, database: str | None = None):
    u = make_url(url)
    if u.drivername == "postgresql":
        u = u.set(drivername="postgresql+psycopg2")
    return u.set(database=database) if database else u


def claim_redis_db(base: str) -> int:
    registry = redis.Redis.from_url(f"{base}/0")
    for number in range(12, 0, -1):
        client = redis.Redis.from_url(f"{base}/{number}")
        if client.exists("cw:test-run-lock"):
            continue
        if registry.set(f"cw:test-db-claim:{number}", f"bench-load-{os.getpid()}", nx=True, ex=3600):
            client.flushdb()
            return number
    raise SystemExit("no free Redis database (1..12) for the load test")


def release_redis_db(base: str, number: int) -> None:
    redis.Redis.from_url(f"{base}/{number}").flushdb()
    redis.Redis.from_url(f"{base}/0").delete(f"cw:test-db-claim:{number}")


@dataclass
class Stack:
    """One checkout's processes and stores."""

    checkout: Path
    port: int
    database_url: str
    redis_url: str
    workdir: Path
    procs: list[subprocess.Popen] = field(default_factory=list)

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in ("PROMETHEUS_MULTIPROC_DIR",)}
        env.update(
            PYTHONPATH=str(self.checkout), CANDLEWISE_ENV="production", SECRET_KEY=secrets.token_urlsafe(32),
            SESSION_COOKIE_SECURE="0", DATABASE_URL=self.database_url, REDIS_URL=self.redis_url,
            MARKET_DATA_SOURCE="demo", CREATE_DEMO_USERS="0", GUNICORN_BIND=f"127.0.0.1:{self.port}",
            LOGIN_LIMIT_IP="100000 per minute", LOGIN_LIMIT_ACCOUNT="100000 per minute",
            LOGIN_LIMIT_ACCOUNT_TOTAL="100000 per minute", MODEL_DIR=str(self.workdir / "models"),
            PROMETHEUS_MULTIPROC_DIR=str(self.workdir / "prom"), LOG_LEVEL="WARNING",
        )
        env.setdefault("METRICS_TOKEN", secrets.token_urlsafe(24))
        if "ALERTS_SECRET_KEY" not in env:  # production refuses to start without one
            from cryptography.fernet import Fernet

            env["ALERTS_SECRET_KEY"] = Fernet.generate_key().decode()
        return env

    def run(self, *args: str, input: str | None = None) -> str:
        out = subprocess.run([sys.executable, *args], cwd=self.checkout, env=self._env, input=input,
                             capture_output=True, text=True, timeout=900)
        if out.returncode:
            raise SystemExit(f"{' '.join(args)} failed in {self.checkout}:\n{out.stdout}\n{out.stderr}")
        return out.stdout

    def start(self, *args: str, name: str) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "w")
        proc = subprocess.Popen([sys.executable, *args], cwd=self.checkout, env=self._env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        proc.cw_name = name
        self.procs.append(proc)
        return proc

    def up(self, with_workers: bool) -> None:
        self._env = self.env()
        (self.workdir / "prom").mkdir(parents=True, exist_ok=True)
        flask = ("-m", "flask", "--app", "wsgi:server")
        self.run(*flask, "db", "upgrade")
        self.start("-m", "workers.run", "worker", name="worker")
        self.run(*flask, "demo", "seed")
        self.run(*flask, "users", "create", "bench@example.com", "--password", PASSWORD)
        r = redis.Redis.from_url(self.redis_url)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:  # the first analysis runs on the worker
            if r.exists(*(f"cw:signals:{s}" for s in ("BTC/USDT", "ETH/USDT"))) == 2:
                break
            time.sleep(1)
        else:
            raise SystemExit(f"the first analysis did not finish (see {self.workdir}/worker.log)")
        if with_workers:
            self.start("-m", "workers.run", "cron", name="cron")
        else:
            self.stop_all()
        self.start("-m", "workers.run", "web", name="web")
        base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/login", timeout=10).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise SystemExit(f"gunicorn did not answer (see {self.workdir}/web.log)")

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        self.procs.clear()


    def rss_mb(self, name: str) -> float:
        """Resident memory (MB) of a started process: gunicorn with its workers; the RQ worker without the
        work horse it may be running (a fork that lives for one job and shares most of its pages with the
        worker, so counting it would add a job's transient copy, not growth)."""
        total = 0
        for proc in self.procs:
            if getattr(proc, "cw_name", None) == name and proc.poll() is None:
                total += _tree_rss_kb(proc.pid, children=name != "worker")
        return total / 1024

    def api_token(self) -> str:
        flask = ("-m", "flask", "--app", "wsgi:server")
        out = self.run(*flask, "tokens", "create", "bench@example.com", "--name", "load", "--scope", "trade")
        return out.strip().splitlines()[-1].strip()


def _tree_rss_kb(pid: int, children: bool = True) -> int:
    """VmRSS of ``pid`` and (``children``) its descendants, from /proc (Linux)."""
    if not children:
        try:
            with open(f"/proc/{pid}/status") as f:
                return next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
        except OSError:
            return 0
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(kids.get(p, []))
        try:
            with open(f"/proc/{p}/status") as f:
                total += next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
        except OSError:
            pass
    return total


class MemorySampler(threading.Thread):
    """Web + worker resident memory every ``every_s`` seconds, to tell a warm-up step from a steady climb."""

    def __init__(self, stack: "Stack", every_s: float):
        super().__init__(daemon=True)
        self.stack, self.every_s, self.stop, self.samples = stack, every_s, threading.Event(), []
        self.t0 = time.monotonic()

    def run(self):
        while True:
            self.samples.append((time.monotonic() - self.t0, self.stack.rss_mb("web") + self.stack.rss_mb("worker")))
            if self.stop.wait(self.every_s):
                return


class BacktestLoad(threading.Thread):
    """``--reliability``: one backtest submitted through the REST API every ``every_s`` seconds."""

    def __init__(self, base: str, token: str, every_s: float):
        super().__init__(daemon=True)
        self.base, self.token, self.every_s = base, token, every_s
        self.stop, self.sent, self.errors = threading.Event(), 0, 0

    def run(self):
        form = {"symbols": ["BTC/USDT"], "timeframe": "1h", "start": "2000-01-01", "end": "2100-01-01",
                "strategy": "rsi_reversion", "params": {"length": "14"}}
        http = requests.Session()
        while not self.stop.wait(self.every_s):
            try:
                r = http.post(f"{self.base}/api/v1/backtests", json=form, timeout=30,
                              headers={"Authorization": f"Bearer {self.token}"})
                ok = r.status_code == 202
            except requests.RequestException:
                ok = False
            self.sent += 1
            self.errors += not ok


# ------------------------------------------------------------------ the simulated browser


class User:
    """One signed-in browser tab: its cookie jar and the component props the server has set."""

    def __init__(self, base: str, page: str, symbol: str, timeframe: str):
        self.base, self.page = base, page
        self.http = requests.Session()
        self.http.headers.update({"Origin": base, "Accept-Encoding": "gzip", "Content-Type": "application/json"})
        prefix = "market" if page == "market" else "signals"
        self.props = {f"{prefix}-symbol.value": symbol, f"{prefix}-timeframe.value": timeframe,
                      f"{INTERVALS[page]}.n_intervals": 0}
        self.lock = threading.Lock()

    def login(self) -> None:
        form = self.http.get(f"{self.base}/login", timeout=30).text
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', form)
        if token is None:
            token = re.search(r'value="([^"]+)"[^>]*name="csrf_token"', form)
        r = self.http.post(f"{self.base}/login", data={"email": "bench@example.com", "password": PASSWORD,
                                                      "csrf_token": token.group(1)},
                           headers={"Content-Type": "application/x-www-form-urlencoded"},
                           allow_redirects=False, timeout=30)
        if r.status_code != 302:
            raise SystemExit(f"login failed: HTTP {r.status_code}")

    def payload(self, dep: dict, changed: str) -> dict:
        def value(spec):
            key = f"{spec['id']}.{spec['property']}"
            return {"id": spec["id"], "property": spec["property"], "value": self.props.get(key)}

        outputs = [dict(id=o.split(".")[0], property=o.split(".")[1]) for o in _outputs(dep["output"])]
        with self.lock:
            body = {"output": dep["output"], "outputs": outputs if len(outputs) > 1 else outputs[0],
                    "inputs": [value(i) for i in dep["inputs"]], "state": [value(s) for s in dep.get("state", [])],
                    "changedPropIds": [changed] if changed else []}
        return body

    def fire(self, dep: dict, changed: str | None) -> tuple[float, int, int]:
        """POST one callback; returns (seconds, wire bytes, HTTP status). Applies the response's props.
        ``changed`` None: the initial call Dash makes when the page loads (no changed prop)."""
        body = self.payload(dep, changed)
        t0 = time.perf_counter()
        r = self.http.post(f"{self.base}/_dash-update-component", data=json.dumps(body), stream=True, timeout=60)
        raw = r.raw.read(decode_content=False)
        elapsed = time.perf_counter() - t0
        if r.status_code == 200:
            enc = r.headers.get("Content-Encoding", "")
            data = gzip.decompress(raw) if enc == "gzip" else zlib.decompress(raw) if enc == "deflate" else raw
            out = json.loads(data)
            with self.lock:
                for cid, props in out.get("response", {}).items():
                    for prop, val in props.items():
                        self.props[f"{cid}.{prop}"] = val
        return elapsed, len(raw), r.status_code


def _outputs(output: str) -> list[str]:
    return [o for o in output.strip(".").split("...")] if output.startswith("..") else [output]


def interval_callbacks(deps: list[dict], page: str) -> list[dict]:
    """The page's server callbacks fired by one of its intervals (clientside ones run in the browser)."""
    return [d for d in deps if not d.get("clientside_function") and interval_of(d, page) is not None]


def interval_of(dep: dict, page: str) -> tuple[str, int] | None:
    """(interval id, period in ticks of the page's main interval) that fires ``dep``, or None."""
    for i in dep["inputs"]:
        if i["property"] == "n_intervals" and i["id"] in PAGE_INTERVALS[page]:
            return i["id"], PAGE_INTERVALS[page][i["id"]]
    return None


def callback_name(dep: dict) -> str:
    return dep["output"].strip(".").split("...")[0]


# ------------------------------------------------------------------ measurements


class IdleInTransaction(threading.Thread):
    """The longest ``idle in transaction`` age in the benchmark database, polled every 100 ms."""

    def __init__(self, admin_url, database: str):
        super().__init__(daemon=True)
        self.engine = create_engine(_pg_url(admin_url), isolation_level="AUTOCOMMIT", pool_size=1)
        self.database, self.max_s, self.max_count, self.stop = database, 0.0, 0, threading.Event()

    def run(self):
        q = text("SELECT coalesce(max(extract(epoch FROM now() - state_change)), 0), count(*) FROM pg_stat_activity "
                 "WHERE datname = :d AND state = 'idle in transaction'")
        with self.engine.connect() as conn:
            while not self.stop.wait(0.1):
                age, n = conn.execute(q, {"d": self.database}).one()
                self.max_s, self.max_count = max(self.max_s, float(age)), max(self.max_count, int(n))
        self.engine.dispose()


def cpu_times() -> tuple[int, int]:
    parts = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return sum(parts), parts[3] + parts[4]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def scenario(base: str, deps: list[dict], n_users: int, seconds: float, interval_s: float,
             symbols: list[str], timeframes: list[str], idle: IdleInTransaction) -> dict:
    users = []
    for i in range(n_users):
        page = "market" if i % 2 == 0 else "signals"
        users.append(User(base, page, symbols[(i // 2) % len(symbols)], timeframes[(i // 2) % len(timeframes)]))
    for u in users:
        u.login()
    # the page loads: like the browser, each user's page fires its callbacks once before any interval
    # tick (the initial call builds the whole figure); timed apart from the ticks
    loads: dict[str, list[float]] = {}
    for u in users:
        for dep in interval_callbacks(deps, u.page):
            elapsed, _n, status = u.fire(dep, None)
            if status in (200, 204):
                loads.setdefault(callback_name(dep), []).append(elapsed)
    lat: dict[str, list[float]] = {}
    ticks: dict[tuple[int, int], int] = {}
    errors: dict[str, int] = {}
    offered = served = 0
    lock = threading.Lock()
    start = time.monotonic() + 1.0
    end = start + seconds
    phases = [random.uniform(0, interval_s) for _ in users]

    def loop(ui: int, dep: dict):
        nonlocal offered, served
        u, name = users[ui], callback_name(dep)
        interval, every = interval_of(dep, u.page)
        changed = f"{interval}.n_intervals"
        k = 0
        while True:
            due = start + phases[ui] + k * every * interval_s
            if due >= end:
                return
            time.sleep(max(0.0, due - time.monotonic()))
            with u.lock:
                u.props[changed] = k + 1
            try:
                elapsed, nbytes, status = u.fire(dep, changed)
            except requests.RequestException as exc:
                elapsed, nbytes, status = float("nan"), 0, type(exc).__name__
            with lock:
                offered += 1
                if status in (200, 204):
                    served += 1
                    lat.setdefault(name, []).append(elapsed)
                    ticks[(ui, k * every)] = ticks.get((ui, k * every), 0) + nbytes
                else:
                    errors[name] = errors.get(name, 0) + 1
            k += 1

    threads = [threading.Thread(target=loop, args=(ui, d), daemon=True)
               for ui, u in enumerate(users) for d in interval_callbacks(deps, u.page)]
    idle.max_s = idle.max_count = 0
    cpu0 = cpu_times()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - start
    cpu1 = cpu_times()
    busy = 1 - (cpu1[1] - cpu0[1]) / max(1, cpu1[0] - cpu0[0])
    offered_rate = sum(1 / interval_of(d, u.page)[1] for u in users for d in interval_callbacks(deps, u.page)) / interval_s
    return {"lat": lat, "loads": loads, "errors": errors, "served_rps": served / took, "offered_rps": offered_rate,
            "bytes_per_tick": sorted(ticks.values()), "cpu": busy, "idle_s": idle.max_s, "idle_n": idle.max_count}


def back_to_back(base: str, deps: list[dict], clients: int, seconds: float, symbol: str, timeframe: str) -> dict:
    dep = next(d for d in interval_callbacks(deps, "market") if "market-chart.figure" in d["output"])
    users = [User(base, "market", symbol, timeframe) for _ in range(clients)]
    for u in users:
        u.login()
    done, errs, lat = 0, 0, []
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def loop(u: User):
        nonlocal done, errs
        k = 0
        while time.monotonic() < end:
            k += 1
            u.props["market-interval.n_intervals"] = k
            try:
                elapsed, _n, status = u.fire(dep, "market-interval.n_intervals")
            except requests.RequestException:
                status, elapsed = "error", 0.0
            with lock:
                if status in (200, 204):
                    done += 1
                    lat.append(elapsed)
                else:
                    errs += 1

    t0 = time.monotonic()
    threads = [threading.Thread(target=loop, args=(u,), daemon=True) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"rps": done / (time.monotonic() - t0), "errors": errs, "p50": pct(lat, 50), "p95": pct(lat, 95)}


# ------------------------------------------------------------------ one checkout


def measure(checkout: Path, label: str, args, admin_url: str, redis_base: str) -> dict:
    name = f"cw_load_{uuid.uuid4().hex[:8]}"
    admin = create_engine(_pg_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    rdb = claim_redis_db(redis_base)
    workdir = Path(tempfile.mkdtemp(prefix=f"cw-load-{label}-"))
    stack = Stack(checkout, args.port, _pg_url(admin_url, name).render_as_string(hide_password=False),
                  f"{redis_base}/{rdb}", workdir)
    idle = IdleInTransaction(admin_url, name)
    out = {"runs": {}}
    try:
        t0 = time.monotonic()
        stack.up(with_workers=not args.no_workers)
        print(f"[{label}] {checkout} up in {time.monotonic() - t0:.0f}s (logs in {workdir})", flush=True)
        base = f"http://127.0.0.1:{args.port}"
        probe = User(base, "market", "BTC/USDT", "1h")
        probe.login()
        deps = probe.http.get(f"{base}/_dash-dependencies", timeout=30).json()
        symbols = [s.strip() for s in args.symbols.split(",")]
        timeframes = [t.strip() for t in args.timeframes.split(",")]
        idle.start()
        backtests = None
        if args.reliability:
            backtests = BacktestLoad(base, stack.api_token(), args.backtest_every)
        cold = {"web": stack.rss_mb("web"), "worker": stack.rss_mb("worker")}
        if args.warmup_seconds > 0:  # every page and callback served once before memory is counted
            warm_users = min(args.users)
            scenario(base, deps, warm_users, args.warmup_seconds, args.interval_ms / 1000, symbols, timeframes, idle)
            print(f"[{label}] warm-up: {warm_users} users for {args.warmup_seconds:.0f}s (not counted; memory "
                  f"web {cold['web']:.0f} -> {stack.rss_mb('web'):.0f} MB, "
                  f"worker {cold['worker']:.0f} -> {stack.rss_mb('worker'):.0f} MB)", flush=True)
        mem0 = {"web": stack.rss_mb("web"), "worker": stack.rss_mb("worker")}
        sampler = MemorySampler(stack, args.memory_every)
        sampler.start()
        if backtests is not None:
            backtests.start()
        for n in args.users:
            res = scenario(base, deps, n, args.seconds, args.interval_ms / 1000, symbols, timeframes, idle)
            out["runs"][n] = res
            report(label, n, res)
        if backtests is not None:
            backtests.stop.set()
            backtests.join(40)
            out["backtests"] = {"sent": backtests.sent, "errors": backtests.errors}
            print(f"[{label}] backtests submitted {backtests.sent}, errors {backtests.errors}", flush=True)
        mem1 = {"web": stack.rss_mb("web"), "worker": stack.rss_mb("worker")}
        sampler.stop.set()
        sampler.join(5)
        out["memory"] = {"cold": cold, "start": mem0, "end": mem1, "samples": sampler.samples}
        print(f"[{label}] memory MB: web {mem0['web']:.0f} -> {mem1['web']:.0f}, "
              f"worker {mem0['worker']:.0f} -> {mem1['worker']:.0f}", flush=True)
        print(f"[{label}] web + worker MB every {args.memory_every:.0f}s: "
              + " ".join(f"{t:.0f}s:{m:.0f}" for t, m in sampler.samples), flush=True)
        b2b = back_to_back(base, deps, args.b2b_clients, args.b2b_seconds, symbols[0], timeframes[0])
        out["b2b"] = b2b
        print(f"[{label}] back-to-back update_chart, {args.b2b_clients} clients, {args.b2b_seconds:.0f}s: "
              f"{b2b['rps']:.1f} req/s, p50 {1000 * b2b['p50']:.1f} ms, p95 {1000 * b2b['p95']:.1f} ms, "
              f"errors {b2b['errors']}", flush=True)
        out["idle_s"] = idle.max_s
    finally:
        idle.stop.set()
        stack.stop_all()
        release_redis_db(redis_base, rdb)
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
    return out


def report(label: str, n: int, res: dict) -> None:
    print(f"[{label}] {n} users: served {res['served_rps']:.2f} / offered {res['offered_rps']:.2f} req/s, "
          f"host CPU {100 * res['cpu']:.0f}%, bytes per tick median {statistics.median(res['bytes_per_tick'] or [0]):,.0f}"
          f" (p95 {pct(res['bytes_per_tick'], 95):,.0f}, max {max(res['bytes_per_tick'] or [0]):,.0f}), longest idle in transaction {res['idle_s']:.3f}s "
          f"(max {res['idle_n']} at once)", flush=True)
    for name, values in sorted(res["lat"].items()):
        print(f"    {name:32s} n={len(values):5d}  p50 {1000 * pct(values, 50):8.1f}  p95 {1000 * pct(values, 95):8.1f}"
              f"  p99 {1000 * pct(values, 99):8.1f} ms  errors {res['errors'].get(name, 0)}", flush=True)
    for name, values in sorted(res.get("loads", {}).items()):
        print(f"    page load: {name:21s} n={len(values):5d}  p50 {1000 * pct(values, 50):8.1f}  "
              f"p95 {1000 * pct(values, 95):8.1f} ms", flush=True)
    for name, count in res["errors"].items():
        if name not in res["lat"]:
            print(f"    {name:32s} errors {count}", flush=True)


def results(prefix: str, out: dict) -> list[str]:
    n = max(out["runs"])
    res = out["runs"][n]
    p95 = max(pct(v, 95) for v in res["lat"].values()) if res["lat"] else float("nan")
    errors = sum(res["errors"].values())
    offered = sum(len(v) for v in res["lat"].values()) + errors + out.get("backtests", {}).get("errors", 0)
    sent = offered + out.get("backtests", {}).get("sent", 0)
    all_errors = errors + out.get("backtests", {}).get("errors", 0)
    mem = out["memory"]
    growth = (mem["end"]["web"] + mem["end"]["worker"]) - (mem["start"]["web"] + mem["start"]["worker"])
    from_cold = (mem["end"]["web"] + mem["end"]["worker"]) - (mem["cold"]["web"] + mem["cold"]["worker"])
    return [f"RESULT {prefix}interval_p95_ms_{n}_users {1000 * p95:.1f} ms (worst interval callback; errors {errors})",
            f"RESULT {prefix}update_chart_rps {out['b2b']['rps']:.1f} req/s",
            f"RESULT {prefix}bytes_per_tick_median {statistics.median(res['bytes_per_tick'] or [0]):.0f} bytes",
            f"RESULT {prefix}idle_in_transaction_max_s {out['idle_s']:.3f} s",
            f"RESULT {prefix}interval_p95_ms {1000 * p95:.1f} ms ({n} users)",
            f"RESULT {prefix}error_rate {all_errors / max(1, sent):.4f} ({all_errors} of {sent} requests)",
            f"RESULT {prefix}memory_growth_mb {growth:.1f} MB (web + worker RSS, end - start after the warm-up)",
            f"RESULT {prefix}memory_growth_from_cold_mb {from_cold:.1f} MB (web + worker RSS, end - before the "
            f"warm-up: imports and caches filled once included)",
            f"RESULT {prefix}memory_growth_after_first_minute_mb {_growth_after(mem, 60.0):.1f} MB "
            f"(web + worker RSS, end - the first sample at or after 60 s)"]


def _growth_after(mem: dict, after_s: float) -> float:
    later = [m for t, m in mem.get("samples", []) if t >= after_s]
    end = mem["end"]["web"] + mem["end"]["worker"]
    return end - later[0] if later else float("nan")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--users", default="50", type=lambda s: [int(x) for x in s.split(",")],
                   help="comma-separated user counts, e.g. 10,25,50 (default 50)")
    p.add_argument("--seconds", type=float, default=30.0, help="duration of each user-count run (issue: 90)")
    p.add_argument("--interval-ms", type=int, default=5000)
    p.add_argument("--b2b-clients", type=int, default=8)
    p.add_argument("--b2b-seconds", type=float, default=15.0)
    p.add_argument("--symbols", default="BTC/USDT,ETH/USDT")
    p.add_argument("--timeframes", default="1m,1h")
    p.add_argument("--ref", type=Path, help="a reference checkout, measured after this one in the same run")
    p.add_argument("--ref-first", action="store_true", help="measure the reference before this checkout")
    p.add_argument("--port", type=int, default=18000 + os.getpid() % 1000)
    p.add_argument("--no-workers", action="store_true", help="no RQ worker and cron during the run")
    p.add_argument("--reliability", action="store_true",
                   help="issue #16's run: 50 users for 3 minutes (unless --users/--seconds say otherwise) plus a "
                        "backtest submitted through the REST API every --backtest-every seconds")
    p.add_argument("--backtest-every", type=float, default=5.0)
    p.add_argument("--memory-every", type=float, default=30.0, help="seconds between memory samples")
    p.add_argument("--warmup-seconds", type=float, default=30.0,
                   help="the smallest user count's traffic this long before memory is counted (0: none)")
    args = p.parse_args(argv)
    if args.reliability:
        if "--users" not in (argv or sys.argv):
            args.users = [50]
        if "--seconds" not in (argv or sys.argv):
            args.seconds = 180.0
    admin_url = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    redis_base = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")
    order = [(ROOT, "this")] + ([(args.ref.resolve(), "ref")] if args.ref else [])
    if args.ref_first:
        order.reverse()
    outs = {label: measure(path, label, args, admin_url, redis_base) for path, label in order}
    if "ref" in outs:
        for line in results("ref_", outs["ref"]):
            print(line)
    for line in results("", outs["this"]):
        print(line)


if __name__ == "__main__":
    main()
