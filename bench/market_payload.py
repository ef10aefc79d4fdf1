"""The Dash request the Market page's chart callback receives, shared by the chart and API benches."""
from __future__ import annotations

import json


def cid(thing: str, k: int) -> str:
    return f"market-{thing}" if k == 0 else f"market-{thing}-{k}"


def chart_payload(seen, n: int, symbol: str, timeframe: str, spec: dict) -> str:
    """The Market page's chart callback request: chart 0 with ``spec``'s overlays and panes, the other
    three charts of the layout hidden; ``seen`` is the version the page last drew (None: a first view)."""
    outs = [("market-chart", "figure"), ("market-source-badge", "children"), ("market-status", "children"),
            ("market-error", "children"), ("market-error", "is_open"), ("market-chart-seen", "data")]
    for k in (1, 2, 3):
        outs += [(cid("chart", k), "figure"), (cid("status", k), "children"), (cid("chart-seen", k), "data")]
    i = lambda c, p, v: {"id": c, "property": p, "value": v}  # noqa: E731
    inputs = [i("market-symbol", "value", symbol), i("market-timeframe", "value", timeframe),
              i("market-interval", "n_intervals", n), i("market-count", "value", 1), i("market-log", "value", False)]
    for k in range(4):
        if k:
            inputs += [i(cid("symbol", k), "value", None), i(cid("timeframe", k), "value", None)]
        inputs += [i(cid("overlays", k), "value", spec["overlays"] if k == 0 else []),
                   i(cid("panes", k), "value", spec["panes"] if k == 0 else ["volume"]),
                   i(cid("sma", k), "value", 20), i(cid("ema", k), "value", 50), i(cid("view", k), "data", None)]
    state = [i(cid("chart-seen", k), "data", seen if k == 0 else None) for k in range(4)]
    state.append(i("market-marks-src", "data", {"backtest": None}))
    return json.dumps({"output": ".." + "...".join(f"{c}.{p}" for c, p in outs) + "..",
                       "outputs": [{"id": c, "property": p} for c, p in outs], "inputs": inputs, "state": state,
                       "changedPropIds": ["market-interval.n_intervals"]})
