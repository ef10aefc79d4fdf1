"""Where an unchanged interval tick spends its time: one signed-in Market ``update_chart`` request that
finds nothing new (a 204), profiled, with the session check from hot state against the database check
(the reference), alternating round by round in one run.

Run from the repo root: ``.venv/bin/python bench/tick_profile.py [--ticks 200] [--rounds 6]``. It needs
Redis at ``BENCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``; keys under a prefix of its own,
deleted at the end) and builds the Dash app in-process on a throwaway SQLite file with one 1m series.
Prints the median request time and the time spent in the session check per mode, then the top
functions of a cProfile of the hot-state mode, and ends with ``RESULT`` lines.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from market_payload import chart_payload  # noqa: E402

SYMBOL, BARS, PASSWORD = "TICK/USDT", 400, "correct-horse-battery"
SPEC = {"overlays": ["sma", "ema"], "panes": ["volume"]}


def candles(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, n)))
    open_ = np.r_[100.0, close[:-1]]
    idx = pd.date_range("2025-01-01T00:00:00Z", periods=n, freq="1min", name="time")
    return pd.DataFrame({"open": open_, "high": np.maximum(open_, close) * 1.0005,
                         "low": np.minimum(open_, close) * 0.9995, "close": close,
                         "volume": rng.uniform(1, 10, n)}, index=idx)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ticks", type=int, default=200, help="ticks per round and mode")
    ap.add_argument("--rounds", type=int, default=6)
    args = ap.parse_args()

    from flask_migrate import upgrade

    import app.auth as auth
    import app.hot as hot
    from app import create_app
    from app.auth.users import create_user
    from app.extensions import db
    from app.market import store
    from app.settings import Settings

    prefix = f"cwtick{uuid.uuid4().hex[:8]}"
    tmp = Path(tempfile.mkdtemp(prefix="cw-bench-tick-"))
    settings = Settings(env="testing", secret_key="bench-secret-key-0123456789", market_source="demo",
                        create_demo_users=False, demo_days=1, database_url=f"sqlite:///{tmp / 'bench.db'}",
                        model_dir=str(tmp / "models"), login_limit_ip="1000 per minute",
                        login_limit_account="1000 per minute", refresh_ms=60_000,
                        redis_url=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
                        redis_prefix=prefix)
    web = create_app(settings)
    server = web.server
    with server.app_context():
        upgrade()
        create_user("bench@example.com", PASSWORD, role="trader")
        sid = store.get_or_create_series(db.session.connection(), "demo", SYMBOL, "1m")
        store.upsert_candles(db.session.connection(), sid, candles(BARS))
        db.session.commit()
        hot.catalog_cache().invalidate()
    client = server.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    r = client.post("/login", data={"email": "bench@example.com", "password": PASSWORD,
                                    **({"csrf_token": token.group(1)} if token else {})})
    assert r.status_code == 302, r.status_code
    headers = {"Origin": "http://localhost"}
    first = client.post("/_dash-update-component", data=chart_payload(None, 0, SYMBOL, "1m", SPEC),
                        content_type="application/json", headers=headers)
    seen = first.get_json()["response"]["market-chart-seen"]["data"]

    check_s: list[float] = []
    real_loader = auth.sessions.load_session_user

    def timed_loader(*a, **k):
        t0 = time.perf_counter()
        try:
            return real_loader(*a, **k)
        finally:
            check_s.append(time.perf_counter() - t0)

    auth.sessions.load_session_user = timed_loader
    real_cache = hot.session_cache

    def run(mode: str, n: int) -> tuple[list[float], list[float]]:
        hot.session_cache = real_cache if mode == "hot" else (lambda settings=None: None)
        check_s.clear()
        times = []
        for k in range(n):
            body = chart_payload(seen, k + 1, SYMBOL, "1m", SPEC)
            t0 = time.perf_counter()
            resp = client.post("/_dash-update-component", data=body, content_type="application/json",
                               headers=headers)
            times.append(time.perf_counter() - t0)
            assert resp.status_code in (200, 204), resp.status_code
        return times, list(check_s)

    run("hot", 20)
    run("db", 20)  # warm both paths
    res = {"hot": ([], []), "db": ([], [])}
    for i in range(args.rounds):
        for mode in (("hot", "db") if i % 2 == 0 else ("db", "hot")):
            t, c = run(mode, args.ticks)
            res[mode][0].extend(t)
            res[mode][1].extend(c)
    for mode, label in (("db", "session check from the database (reference)"), ("hot", "session check from hot state")):
        t, c = res[mode]
        print(f"{label:46s} request median {1000 * statistics.median(t):6.2f} ms, p95 "
              f"{1000 * sorted(t)[int(0.95 * (len(t) - 1))]:6.2f} ms; session check median "
              f"{1000 * statistics.median(c):6.3f} ms")
    prof = cProfile.Profile()
    hot.session_cache = real_cache
    prof.enable()
    run("hot", args.ticks)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(25)
    print("\n".join(out.getvalue().splitlines()[:45]))
    with server.app_context():
        kv = hot.kv_store()
        for key in list(kv.scan_iter(match=f"{prefix}:*")):
            kv.delete(key)
    th, tc = res["hot"]
    dh, dc = res["db"]
    print(f"RESULT ref_tick_request_ms {1000 * statistics.median(dh):.2f} ms (unchanged tick, session from the database)")
    print(f"RESULT tick_request_ms {1000 * statistics.median(th):.2f} ms (unchanged tick, session from hot state)")
    print(f"RESULT ref_session_check_ms {1000 * statistics.median(dc):.3f} ms")
    print(f"RESULT session_check_ms {1000 * statistics.median(tc):.3f} ms")


if __name__ == "__main__":
    main()
