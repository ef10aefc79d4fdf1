"""Compressing interval responses: in the gunicorn worker (Dash ``compress=True``, flask-compress: gzip
level 6 in Python) against nginx's gzip (``gzip_comp_level 5`` in deploy/nginx/candlewise.conf.template,
in the nginx process), and against sending them uncompressed (the reference), side by side in one run.

Run from the repo root: ``.venv/bin/python bench/compression.py [--reps 200]``. Payloads: a full Market
figure response (300 candlesticks, volume, two overlays, as plotly encodes it), a one-bar ``Patch``
response, and the empty 204 of an unchanged tick (nothing to compress). For each: bytes on the wire
and the CPU time of compressing one response at level 6 (what flask-compress spends inside a gunicorn
thread) and level 5 (nginx: the same zlib work, but outside the Python workers). Ends with ``RESULT`` lines.
"""
from __future__ import annotations

import argparse
import gzip
import json
import statistics
import time

import numpy as np
import pandas as pd
import plotly.graph_objects as go


def full_figure_response(bars: int = 300) -> bytes:
    rng = np.random.default_rng(1)
    idx = pd.date_range("2025-01-01", periods=bars, freq="1min", tz="UTC")
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, bars)))
    open_ = np.concatenate(([100.0], close[:-1]))
    high, low = np.maximum(open_, close) * 1.0007, np.minimum(open_, close) * 0.9993
    fig = go.Figure([go.Candlestick(x=idx, open=open_, high=high, low=low, close=close, name="price"),
                     go.Scatter(x=idx, y=pd.Series(close).rolling(20).mean(), name="SMA 20"),
                     go.Scatter(x=idx, y=pd.Series(close).ewm(span=50).mean(), name="EMA 50"),
                     go.Bar(x=idx, y=rng.uniform(1, 100, bars), name="volume", yaxis="y2")])
    body = '{"multi": true, "response": {"market-chart": {"figure": %s}}}' % fig.to_json()
    return body.encode()


def patch_response() -> bytes:
    op = {"__dash_patch_update": "__dash_patch_update", "operations": [
        {"operation": "Assign", "location": ["data", 0, "close", -1], "params": {"value": 101.2345}},
        {"operation": "Append", "location": ["data", 0, "x"], "params": {"value": "2025-01-01T05:00:00+00:00"}},
        {"operation": "Append", "location": ["data", 0, "open"], "params": {"value": 101.2345}},
        {"operation": "Append", "location": ["data", 0, "high"], "params": {"value": 101.3}},
        {"operation": "Append", "location": ["data", 0, "low"], "params": {"value": 101.2}},
        {"operation": "Append", "location": ["data", 0, "close"], "params": {"value": 101.25}}]}
    return json.dumps({"multi": True, "response": {"market-chart": {"figure": op},
                                                   "market-chart-seen": {"data": {"last": "2025-01-01T05:00"}}}}).encode()


def cost_ms(body: bytes, level: int, reps: int) -> tuple[float, int]:
    times = []
    for _ in range(reps):
        t0 = time.process_time()
        out = gzip.compress(body, compresslevel=level)
        times.append(1000 * (time.process_time() - t0))
    return statistics.median(times), len(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--reps", type=int, default=200)
    args = p.parse_args()
    rows = {"full figure": full_figure_response(), "one-bar Patch": patch_response()}
    print(f"{'payload':16s} {'raw B':>9s} {'L6 B':>8s} {'L6 ms':>7s} {'L5 B':>8s} {'L5 ms':>7s}")
    out = {}
    for name, body in rows.items():
        l6_ms, l6_b = cost_ms(body, 6, args.reps)
        l5_ms, l5_b = cost_ms(body, 5, args.reps)
        out[name] = (len(body), l6_b, l6_ms, l5_b, l5_ms)
        print(f"{name:16s} {len(body):9,d} {l6_b:8,d} {l6_ms:7.3f} {l5_b:8,d} {l5_ms:7.3f}")
    print("unchanged tick   204, 0 bytes: nothing to compress either way")
    raw, l6_b, l6_ms, l5_b, l5_ms = out["full figure"]
    print(f"RESULT ref_full_figure_bytes {raw} bytes (uncompressed)")
    print(f"RESULT dash_compress_full_figure_bytes {l6_b} bytes (level 6, in the gunicorn worker)")
    print(f"RESULT dash_compress_full_figure_cpu_ms {l6_ms:.3f} ms per response (inside a gunicorn thread)")
    print(f"RESULT nginx_gzip_full_figure_bytes {l5_b} bytes (level 5, in nginx)")
    print(f"RESULT nginx_gzip_full_figure_cpu_ms {l5_ms:.3f} ms per response (in the nginx process)")


if __name__ == "__main__":
    main()
