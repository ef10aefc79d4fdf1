"""Exports of a ``BacktestResult``: trades CSV, JSON, XLSX and an HTML tear sheet.

Every export is bytes/str built in memory (no files, no network). The HTML
tear sheet is self-contained: plotly.js is inlined, so it opens offline.
Times are written as ISO 8601 UTC strings. Non-finite metrics (an infinite
profit factor, an undefined ratio) are written as empty cells / ``null``.
"""
from __future__ import annotations

import html
import io
import json
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from app.backtest.engine import BacktestResult
from app.backtest.metrics import METRIC_LABELS, drawdown, monthly_returns, summary

CHART_POINTS = 5000  # charts show at most this many points (last value of each bucket)


def _iso(values: pd.Series | pd.Index) -> list[str]:
    return [t.isoformat() for t in pd.DatetimeIndex(values).tz_convert("UTC")]


def _clean(value):
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _trades_table(result: BacktestResult) -> pd.DataFrame:
    t = result.trades.copy()
    for col in ("symbol", "side", "exit_reason"):
        t[col] = t[col].astype(str)
    t["entry_time"] = _iso(t["entry_time"])
    t["exit_time"] = _iso(t["exit_time"])
    return t


def _data_info(result: BacktestResult) -> dict:
    return {"symbols": list(result.symbols), "timeframe": result.timeframe, "start": result.start.isoformat(),
            "end": result.end.isoformat(), "n_bars": result.n_bars, "data_hash": result.data_hash}


def trades_csv(result: BacktestResult) -> bytes:
    """All trades as UTF-8 CSV with a header row."""
    return _trades_table(result).to_csv(index=False).encode("utf-8")


def to_dict(result: BacktestResult, benchmark: BacktestResult | None = None) -> dict:
    """The full result as plain JSON-ready data."""
    table = summary(result, benchmark)
    monthly = monthly_returns(result.equity, result.initial_cash)
    return {
        "strategy": result.strategy,
        "config": result.config,
        "data": _data_info(result),
        "metrics": {col: {k: _clean(v) for k, v in table[col].items()} for col in table.columns},
        "monthly_returns": {str(y): {m: _clean(v) for m, v in row.items()} for y, row in monthly.iterrows()},
        "trades": [{k: _clean(v) for k, v in row.items()} for row in _trades_table(result).to_dict("records")],
        "equity": {"time": _iso(result.equity.index), "value": [float(v) for v in result.equity.to_numpy()]},
    }


def to_json(result: BacktestResult, benchmark: BacktestResult | None = None) -> str:
    return json.dumps(to_dict(result, benchmark), allow_nan=False)


def _config_rows(result: BacktestResult) -> pd.DataFrame:
    flat = {}
    for k, v in result.config.items():
        if isinstance(v, dict):
            flat.update({f"costs.{ck}" if k == "costs" else f"{k}.{ck}": cv for ck, cv in v.items()})
        else:
            flat[k] = v
    flat.update({f"data.{k}": v for k, v in _data_info(result).items() if k != "symbols"})
    flat["data.symbols"] = ", ".join(result.symbols)
    flat["strategy"] = json.dumps(result.strategy)
    return pd.DataFrame({"key": list(flat), "value": [("" if v is None else str(v)) for v in flat.values()]})


def to_xlsx(result: BacktestResult, benchmark: BacktestResult | None = None) -> bytes:
    """Workbook with sheets ``metrics``, ``trades``, ``monthly_returns``, ``config``."""
    table = summary(result, benchmark).map(_clean)
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        table.reset_index().to_excel(xl, sheet_name="metrics", index=False)
        _trades_table(result).to_excel(xl, sheet_name="trades", index=False)
        monthly_returns(result.equity, result.initial_cash).reset_index().to_excel(
            xl, sheet_name="monthly_returns", index=False)
        _config_rows(result).to_excel(xl, sheet_name="config", index=False)
    return buf.getvalue()


def _thin(series: pd.Series) -> pd.Series:
    if len(series) <= CHART_POINTS:
        return series
    step = math.ceil(len(series) / CHART_POINTS)
    return series.iloc[step - 1::step]


def _fmt(key: str, value) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—" if value is None or math.isnan(value) else ("∞" if value > 0 else "-∞")
    if key in {"total_return", "annual_return", "volatility", "max_drawdown", "win_rate", "exposure"}:
        return f"{value * 100:.2f}%"
    if key == "n_trades":
        return str(int(value))
    return f"{value:,.4f}"


def tear_sheet_html(result: BacktestResult, benchmark: BacktestResult | None = None) -> str:
    """A self-contained HTML page: metrics, costs/assumptions, data span,
    equity vs buy-and-hold, drawdown and monthly returns (plotly, inlined)."""
    table = summary(result, benchmark)
    eq = go.Figure()
    e = _thin(result.equity)
    eq.add_trace(go.Scatter(x=e.index, y=e.to_numpy(), name="strategy", mode="lines"))
    if benchmark is not None:
        b = _thin(benchmark.equity)
        eq.add_trace(go.Scatter(x=b.index, y=b.to_numpy(), name="buy & hold", mode="lines"))
    eq.update_layout(title="Equity", height=380, margin=dict(l=40, r=20, t=40, b=30))
    dd = _thin(drawdown(result.equity))
    ddf = go.Figure(go.Scatter(x=dd.index, y=dd.to_numpy() * 100, fill="tozeroy", name="drawdown %"))
    ddf.update_layout(title="Drawdown (%)", height=260, margin=dict(l=40, r=20, t=40, b=30))
    monthly = monthly_returns(result.equity, result.initial_cash)
    months = [str(m) for m in range(1, 13)]
    hm = go.Figure(go.Heatmap(z=(monthly[months].to_numpy() * 100), x=months, y=[str(y) for y in monthly.index],
                              colorscale="RdYlGn", zmid=0, texttemplate="%{z:.1f}"))
    hm.update_layout(title="Monthly returns (%)", height=120 + 30 * len(monthly), margin=dict(l=40, r=20, t=40, b=30))
    charts = [eq.to_html(include_plotlyjs=True, full_html=False)]
    charts += [f.to_html(include_plotlyjs=False, full_html=False) for f in (ddf, hm)]

    cols = list(table.columns)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ["metric", *cols])
    body = "".join(
        f"<tr><td>{html.escape(METRIC_LABELS[k])}</td>"
        + "".join(f"<td data-metric='{k}' data-column='{c}' data-value='{_clean(table.at[k, c])}'>"
                  f"{_fmt(k, table.at[k, c])}</td>" for c in cols) + "</tr>"
        for k in table.index)
    conf = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>"
                   for k, v in _config_rows(result).itertuples(index=False))
    title = html.escape(f"Backtest — {result.strategy.get('name', 'signals')} on {', '.join(result.symbols)}")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;margin:24px;color:#222}}table{{border-collapse:collapse;margin:8px 0 24px}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}td:first-child{{text-align:left}}
.grid{{display:grid;grid-template-columns:1fr 1fr;gap:24px}}</style></head>
<body><h1>{title}</h1>
<p>Data: {result.n_bars} bars of {html.escape(str(result.timeframe))} from {result.start.isoformat()} to
{result.end.isoformat()} (UTC), sha256 <code>{result.data_hash}</code>.</p>
<p>Assumptions: signals are decided at a bar's close and filled at the next bar's open; market orders pay the
taker fee and slippage; take-profits fill as limit orders (maker fee); when a stop and a take-profit fall in
the same bar the stop is assumed first; gaps through a stop fill at the open.</p>
{charts[0]}{charts[1]}
<div class="grid"><div><h2>Metrics</h2><table id="metrics"><tr>{head}</tr>{body}</table></div>
<div><h2>Costs and configuration</h2><table id="config">{conf}</table></div></div>
{charts[2]}
</body></html>"""
