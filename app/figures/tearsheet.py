"""The HTML tear sheet of a backtest: self-contained (plotly.js inlined), so it opens offline."""
from __future__ import annotations

import html

import plotly.graph_objects as go

from app.backtest.engine import BacktestResult
from app.backtest.metrics import METRIC_LABELS, drawdown, monthly_returns, summary
from app.backtest.reports import clean, config_rows
from app.figures import thin
from app.figures.backtests import fmt_value

CHART_POINTS = 5000  # the tear sheet's charts show at most this many points


def tear_sheet_html(result: BacktestResult, benchmark: BacktestResult | None = None) -> str:
    """A self-contained HTML page: metrics, costs/assumptions, data span,
    equity vs buy-and-hold, drawdown and monthly returns (plotly, inlined)."""
    table = summary(result, benchmark)
    eq = go.Figure()
    e = thin(result.equity, CHART_POINTS)
    eq.add_trace(go.Scatter(x=e.index, y=e.to_numpy(), name="strategy", mode="lines"))
    if benchmark is not None:
        b = thin(benchmark.equity, CHART_POINTS)
        eq.add_trace(go.Scatter(x=b.index, y=b.to_numpy(), name="buy & hold", mode="lines"))
    eq.update_layout(title="Equity", height=380, margin=dict(l=40, r=20, t=40, b=30))
    dd = thin(drawdown(result.equity), CHART_POINTS)
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
        + "".join(f"<td data-metric='{k}' data-column='{c}' data-value='{clean(table.at[k, c])}'>"
                  f"{fmt_value(k, table.at[k, c])}</td>" for c in cols) + "</tr>"
        for k in table.index)
    conf = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>"
                   for k, v in config_rows(result).itertuples(index=False))
    title = html.escape(f"Backtest — {result.strategy.get('name', 'signals')} on {', '.join(result.symbols)}")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;margin:24px;color:#222}}table{{border-collapse:collapse;margin:8px 0 24px}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}td:first-child{{text-align:left}}
.grid{{display:grid;grid-template-columns:1fr 1fr;gap:24px}}</style></head>
<body><h1>{title}</h1>
<p>Data: {result.n_bars} bars of {html.escape(str(result.timeframe))} from {result.start.isoformat()} to
{result.end.isoformat()} (UTC), data hash <code>{result.data_hash}</code>.</p>
<p>Assumptions: signals are decided at a bar's close and filled at the next bar's open; market orders pay the
taker fee and slippage; take-profits fill as limit orders (maker fee); when a stop and a take-profit fall in
the same bar the stop is assumed first; gaps through a stop fill at the open.</p>
{charts[0]}{charts[1]}
<div class="grid"><div><h2>Metrics</h2><table id="metrics"><tr>{head}</tr>{body}</table></div>
<div><h2>Costs and configuration</h2><table id="config">{conf}</table></div></div>
{charts[2]}
</body></html>"""
