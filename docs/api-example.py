"""A Candlewise API session: candles into pandas, then a batch of backtests, their metrics as a table.

    CANDLEWISE_URL=http://127.0.0.1:8050 CANDLEWISE_TOKEN=cw_... python docs/api-example.py

Create the token on the API tokens page (/account/tokens) or with
``flask tokens create you@example.com --name notebook --scope read --scope trade``.
The test suite runs :func:`main` against a live server (tests/integration/api/test_example.py).
"""
from __future__ import annotations

import io
import os
import time

import pandas as pd
import requests


def client(base_url: str, token: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    session.base_url = base_url.rstrip("/")
    return session


def get(session: requests.Session, path: str, **params) -> requests.Response:
    response = session.get(session.base_url + path, params=params, timeout=30)
    if response.status_code == 429:  # rate limited: wait as long as the server says, once
        time.sleep(float(response.headers.get("Retry-After", "1")))
        response = session.get(session.base_url + path, params=params, timeout=30)
    if response.status_code >= 400:  # an RFC 9457 problem: title, detail and one error per field
        raise RuntimeError(f"{path}: {response.status_code} {response.json().get('detail')}")
    return response


def candles(session: requests.Session, symbol: str, timeframe: str, bars: int = 5000, page: int = 1000) -> pd.DataFrame:
    """The latest ``bars`` bars as a DataFrame indexed by UTC time, following the cursor page by page."""
    frames, cursor, got = [], None, 0
    while got < bars:
        params = {"symbol": symbol, "timeframe": timeframe, "limit": min(page, bars - got)}
        if cursor:
            params["cursor"] = cursor
        body = get(session, "/api/v1/candles", **params).json()
        frames.insert(0, pd.DataFrame(body["candles"]))
        got += len(body["candles"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    frame = pd.concat(frames, ignore_index=True)
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    return frame.set_index("time")


def run_batch(session: requests.Session, request: dict, timeout_s: float = 300.0) -> pd.DataFrame:
    """Submit a batch (lists of parameter values expand into one run per combination) and wait for it."""
    response = session.post(session.base_url + "/api/v1/backtests", json=request, timeout=30)
    if response.status_code != 202:
        problem = response.json()
        raise RuntimeError("; ".join(f"{e['field']}: {e['message']}" for e in problem.get("errors", []))
                           or problem.get("detail"))
    batch_url = response.headers["Location"]
    deadline = time.monotonic() + timeout_s
    while True:
        runs = get(session, batch_url).json()["backtests"]
        if all(r["status"] in ("finished", "failed") for r in runs):
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"batch not done after {timeout_s:.0f} s")
        time.sleep(1.0)
    rows = [{"id": r["id"], "status": r["status"], **r["params"], **(r["metrics"] or {})} for r in runs]
    return pd.DataFrame(rows).set_index("id").sort_index()


def trades(session: requests.Session, run: dict) -> pd.DataFrame:
    """A finished run's trades (the CSV report) as a DataFrame."""
    return pd.read_csv(io.BytesIO(get(session, run["reports"]["trades.csv"]).content))


def main(base_url: str, token: str, symbol: str = "BTC/USDT", timeframe: str = "1h") -> dict:
    session = client(base_url, token)
    bars = candles(session, symbol, timeframe, bars=2000, page=500)
    print(f"{len(bars)} {symbol} {timeframe} bars, {bars.index[0]} .. {bars.index[-1]}")
    print(bars["close"].describe().to_string())
    results = run_batch(session, {"symbols": [symbol], "timeframe": timeframe, "start": str(bars.index[0].date()),
                                  "end": str(bars.index[-1].date()), "strategy": "ma_cross",
                                  "params": {"fast": [5, 10], "slow": [20, 40]}})
    print(results[["status", "fast", "slow", "total_return", "sharpe", "n_trades"]].to_string())
    return {"bars": bars, "results": results}


if __name__ == "__main__":
    main(os.environ.get("CANDLEWISE_URL", "http://127.0.0.1:8050"), os.environ["CANDLEWISE_TOKEN"])
