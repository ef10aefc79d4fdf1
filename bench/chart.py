"""Benchmark: the Market chart's interval callback, incremental tick vs the whole figure, in one run.

Run from the repo root:  .venv/bin/python bench/chart.py [--ticks 60]

An embedded-mode app (SQLite in a temporary directory, the same code paths as production minus Redis)
with one 1m series of 1,600 bars; the chart shows 500 bars with three overlays (SMA 20, EMA 50,
Bollinger) and two panes (volume, RSI). Each request is a real POST to ``/_dash-update-component`` through
Flask's test client as a signed-in trader, so the time is the server's: request parsing, the guard,
the reads, the figure or Patch, JSON encoding.

  * full figure, built: the shared view cache is emptied before every request (what a selection change
    costs the first user);
  * full figure, served from the shared view cache (what it costs every later user);
  * incremental tick: one new closed bar is stored, then the tick with the page's state answers with a
    Patch of that bar and its study values (the stored bar is written outside the timed part) -- the
    ``chart_tick_*`` results;
  * forming bar moved: an hourly series whose last bar is forming now; its close moves before each tick,
    which answers with a Patch of the forming trace only (the most common tick on a live page);
  * unchanged tick: nothing new, an empty 204;
  * reference: the page's ticker-row callback answering 204 (a callback that reads the catalogue and the
    tickers): what any interval request costs on this machine before the chart does anything.

Targets: incremental tick p95 < 20 ms; full figure bytes / tick bytes >= 20.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from market_payload import chart_payload  # noqa: E402

SYMBOL, FORMING, BARS, PASSWORD = "BENCH/USDT", "LIVE/USDT", 1600, "correct-horse-battery"
SPEC = {"overlays": ["sma", "ema", "bb"], "panes": ["volume", "rsi"]}


def candles(n: int, start: str) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, n)))
    open_ = np.r_[100.0, close[:-1]]
    spread = np.abs(rng.normal(0, 0.0005, n)) * close
    idx = pd.date_range(pd.Timestamp(start), periods=n, freq="1min", name="time")
    return pd.DataFrame({"open": open_, "high": np.maximum(open_, close) + spread,
                         "low": np.minimum(open_, close) - spread, "close": close,
                         "volume": rng.uniform(1, 10, n)}, index=idx)


def _payload(seen, n: int, symbol: str = SYMBOL, timeframe: str = "1m") -> str:
    return chart_payload(seen, n, symbol, timeframe, SPEC)


def p95(xs):
    return float(np.percentile(xs, 95))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ticks", type=int, default=60)
    ap.add_argument("--profile", action="store_true", help="profile 20 more incremental ticks")
    args = ap.parse_args()

    from flask_migrate import upgrade

    import app.hot as hot
    from app import create_app
    from app.auth.users import create_user
    from app.extensions import db
    from app.market import store
    from app.settings import Settings

    tmp = Path(tempfile.mkdtemp(prefix="cw-bench-chart-"))
    settings = Settings(env="testing", secret_key="bench-secret-key-0123456789", market_source="demo",
                        create_demo_users=False, demo_days=1, database_url=f"sqlite:///{tmp / 'bench.db'}",
                        model_dir=str(tmp / "models"), login_limit_ip="1000 per minute",
                        login_limit_account="1000 per minute", refresh_ms=60_000)
    web = create_app(settings)
    server = web.server
    df = candles(BARS + args.ticks + 25, "2025-01-01T00:00:00Z")
    with server.app_context():
        upgrade()
        create_user("bench@example.com", PASSWORD, role="trader")
        sid = store.get_or_create_series(db.session.connection(), "demo", SYMBOL, "1m")
        store.upsert_candles(db.session.connection(), sid, df.iloc[:BARS])
        db.session.commit()
        live = candles(BARS, "2025-01-01T00:00:00Z")  # an hourly series whose last bar is forming now
        live.index = pd.date_range(end=pd.Timestamp.now(tz="UTC").floor("h"), periods=BARS, freq="1h", name="time")
        sid2 = store.get_or_create_series(db.session.connection(), "demo", FORMING, "1h")
        store.upsert_candles(db.session.connection(), sid2, live)
        db.session.commit()
        hot.catalog_cache().invalidate()

    client = server.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    r = client.post("/login", data={"email": "bench@example.com", "password": PASSWORD,
                                    **({"csrf_token": token.group(1)} if token else {})})
    assert r.status_code == 302, r.status_code
    headers = {"Origin": "http://localhost"}

    def call(seen, n, symbol=SYMBOL, timeframe="1m"):
        body = _payload(seen, n, symbol, timeframe)
        t0 = time.perf_counter()
        resp = client.post("/_dash-update-component", data=body, content_type="application/json", headers=headers)
        dt = (time.perf_counter() - t0) * 1000.0
        return resp, dt

    def forget_views():
        with server.app_context():
            store_ = hot.kv_store()
            for key in list(store_.scan_iter(match="*:views:*")):
                store_.delete(key)

    inside: list[float] = []  # time inside the chart callback itself (the request's parsing, guard and encoding apart)
    key = next(k for k in web.callback_map if k.startswith("..market-chart.figure"))
    wrapped = web.callback_map[key]["callback"]

    def timed(*a, **kw):
        t0 = time.perf_counter()
        try:
            return wrapped(*a, **kw)
        finally:
            inside.append((time.perf_counter() - t0) * 1000.0)

    web.callback_map[key]["callback"] = timed

    first, _ = call(None, 0)  # warm-up: imports, caches
    assert first.status_code == 200, first.get_data()[:500]
    out = first.get_json()["response"]
    assert len(out["market-chart"]["figure"]["data"][0]["x"]) == 500

    built, built_bytes = [], []
    for k in range(10):
        forget_views()
        resp, dt = call(None, k)
        built.append(dt)
        built_bytes.append(len(resp.get_data()))
    served = []
    for k in range(20):
        resp, dt = call(None, k)
        served.append(dt)
    full_bytes = statistics.median(built_bytes)
    if statistics.median(served) > 0.8 * statistics.median(built):
        print("note: the shared view cache did not answer (served ~ built)")

    seen = call(None, 0)[0].get_json()["response"]["market-chart-seen"]["data"]
    ticks, tick_bytes, unchanged, again = [], [], [], []
    inside_tick, inside_unchanged = [], []
    for k in range(args.ticks):
        with server.app_context():
            store.upsert_candles(db.session.connection(), sid, df.iloc[BARS + k:BARS + k + 1])
            db.session.commit()
        resp, dt = call(seen, k + 1)
        assert resp.status_code == 200, resp.status_code
        doc = resp.get_json()["response"]
        fig = doc["market-chart"]["figure"]
        assert fig.get("__dash_patch_update"), "expected a Patch"
        ticks.append(dt)
        inside_tick.append(inside[-1])
        tick_bytes.append(len(resp.get_data()))
        resp, dt = call(seen, k + 1)  # another tab showing the same chart: the new bar's studies are stored
        assert resp.status_code == 200 and resp.get_json()["response"]["market-chart"]["figure"] == fig
        again.append(dt)
        seen = doc["market-chart-seen"]["data"]
        resp, dt = call(seen, k + 1)
        assert resp.status_code == 204, resp.status_code
        unchanged.append(dt)
        inside_unchanged.append(inside[-1])

    tick_seen = seen  # the 1m chart's state, for the profile below
    seen = call(None, 0, FORMING, "1h")[0].get_json()["response"]["market-chart-seen"]["data"]
    assert seen["forming"], seen
    moving, moving_bytes = [], []
    for k in range(args.ticks):
        with server.app_context():
            bar = live.iloc[-1:].copy()
            bar["close"] = bar["close"] * (1 + 0.0001 * (k + 1))
            bar["high"] = bar[["high", "close"]].max(axis=1)
            store.upsert_candles(db.session.connection(), sid2, bar)
            db.session.commit()
        resp, dt = call(seen, k + 1, FORMING, "1h")
        assert resp.status_code == 200, resp.status_code
        doc = resp.get_json()["response"]
        assert doc["market-chart"]["figure"].get("__dash_patch_update"), "expected a Patch"
        moving.append(dt)
        moving_bytes.append(len(resp.get_data()))
        seen = doc["market-chart-seen"]["data"]

    ticker = json.dumps({"output": "..market-ticker.children...market-ticker-seen.data..",
                         "outputs": [{"id": "market-ticker", "property": "children"},
                                     {"id": "market-ticker-seen", "property": "data"}],
                         "inputs": [{"id": "market-interval", "property": "n_intervals", "value": 1}],
                         "state": [{"id": "market-ticker-seen", "property": "data", "value": None}],
                         "changedPropIds": ["market-interval.n_intervals"]})
    version = client.post("/_dash-update-component", data=ticker, content_type="application/json",
                          headers=headers).get_json()["response"]["market-ticker-seen"]["data"]
    ticker = ticker.replace('"value": null}]', '"value": %s}]' % json.dumps(version))
    floor = []
    for k in range(args.ticks):
        t0 = time.perf_counter()
        resp = client.post("/_dash-update-component", data=ticker, content_type="application/json", headers=headers)
        floor.append((time.perf_counter() - t0) * 1000.0)
        assert resp.status_code == 204, resp.status_code

    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        seen = tick_seen  # the 1m chart's state: each profiled request is an incremental tick
        for k in range(20):
            with server.app_context():
                store.upsert_candles(db.session.connection(), sid, df.iloc[BARS + args.ticks + k:BARS + args.ticks + k + 1])
                db.session.commit()
            prof.enable()
            resp, _ = call(seen, 1000 + k)
            prof.disable()
            seen = resp.get_json()["response"]["market-chart-seen"]["data"]
        pstats.Stats(prof).sort_stats("cumulative").print_stats(45)
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    tick_b = statistics.median(tick_bytes)
    print(f"{'request':<34}{'median ms':>10}{'p95 ms':>10}{'bytes':>10}")
    print(f"{'full figure, built':<34}{statistics.median(built):>10.2f}{p95(built):>10.2f}{full_bytes:>10.0f}")
    print(f"{'full figure, shared view':<34}{statistics.median(served):>10.2f}{p95(served):>10.2f}{full_bytes:>10.0f}")
    print(f"{'incremental tick (Patch)':<34}{statistics.median(ticks):>10.2f}{p95(ticks):>10.2f}{tick_b:>10.0f}")
    print(f"{'  the same tick, another tab':<34}{statistics.median(again):>10.2f}{p95(again):>10.2f}{tick_b:>10.0f}")
    print(f"{'forming bar moved (Patch)':<34}{statistics.median(moving):>10.2f}{p95(moving):>10.2f}"
          f"{statistics.median(moving_bytes):>10.0f}")
    print(f"{'unchanged tick (204)':<34}{statistics.median(unchanged):>10.2f}{p95(unchanged):>10.2f}{0:>10}")
    print(f"{'reference: ticker row 204':<34}{statistics.median(floor):>10.2f}{p95(floor):>10.2f}{0:>10}")
    print(f"{'  inside the callback: new bar':<34}{statistics.median(inside_tick):>10.2f}{p95(inside_tick):>10.2f}")
    print(f"{'  inside the callback: unchanged':<34}{statistics.median(inside_unchanged):>10.2f}"
          f"{p95(inside_unchanged):>10.2f}")
    print(f"500 bars, overlays {SPEC['overlays']}, panes {SPEC['panes']}, {args.ticks} ticks; "
          f"targets: tick p95 < 20 ms {'met' if p95(ticks) < 20 else 'NOT met'}, "
          f"bytes ratio >= 20 {'met' if full_bytes / tick_b >= 20 else 'NOT met'}")
    print(f"RESULT chart_full_built_p95_ms {p95(built):.2f} ms")
    print(f"RESULT chart_full_served_p95_ms {p95(served):.2f} ms")
    print(f"RESULT chart_forming_tick_p95_ms {p95(moving):.2f} ms")
    print(f"RESULT ticker_unchanged_p95_ms {p95(floor):.2f} ms")
    print(f"RESULT chart_unchanged_tick_p95_ms {p95(unchanged):.2f} ms")
    print(f"RESULT chart_tick_callback_p95_ms {p95(inside_tick):.2f} ms")
    print(f"RESULT chart_tick_another_tab_p95_ms {p95(again):.2f} ms")
    print(f"RESULT chart_tick_p95_ms {p95(ticks):.2f} ms")
    print(f"RESULT chart_tick_bytes_ratio {full_bytes / tick_b:.1f} x")


if __name__ == "__main__":
    main()
