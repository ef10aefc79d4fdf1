"""The tear sheet of a backtest: one self-contained, print-friendly HTML report (plotly.js inlined).

Read top-down the way a risk meeting does: a headline block (return against the
benchmark, CAGR, Sharpe, max drawdown, trades, exposure), then the cumulative
return against the benchmark (linear/log), the underwater chart, rolling Sharpe
and volatility, the distribution of trade returns, monthly returns (month names,
a yearly total), the five worst drawdowns, every metric, the assumptions in
words, the formulas behind the ratios and the full configuration. The page is
rendered from ``app/templates/tearsheet.html``; the PDF (``app.figures.pdf``)
prints this same page.
"""
from __future__ import annotations

import math
from pathlib import Path

import jinja2
import numpy as np
import plotly.graph_objects as go
from markupsafe import Markup
from plotly.subplots import make_subplots

from app.backtest.drawdowns import worst_drawdowns
from app.backtest.engine import BacktestResult
from app.backtest.metrics import METRIC_LABELS, conventions, drawdown, metrics_report, monthly_returns
from app.backtest.reports import clean, config_items
from app.backtest.rolling import rolling_sharpe_volatility, rolling_window
from app.figures import thin
from app.figures import formatting as fmt

CHART_POINTS = 5000  # the tear sheet's charts show at most this many points
WIDTH = 700          # px: fits an A4 page with 10 mm margins, so screen and print look the same
INK, MUTED, GRID = "#1b1f24", "#6b7280", "#e5e7eb"
STRATEGY, BENCHMARK, GAIN, LOSS = "#1f4e79", "#8a8f98", "#1e7b4f", "#b42318"
COLUMN_NAMES = {"strategy": "strategy", "buy_and_hold": "buy & hold"}
HEADLINE = ("total_return", "annual_return", "sharpe", "max_drawdown", "n_trades", "exposure")
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

# the one print theme of the report's charts: white paper, dark ink, the page's font
PRINT_THEME = go.layout.Template(
    layout=dict(font=dict(family="Helvetica, Arial, sans-serif", size=11, color=INK), paper_bgcolor="white",
                plot_bgcolor="white", colorway=[STRATEGY, BENCHMARK, GAIN, LOSS],
                xaxis=dict(gridcolor=GRID, linecolor=MUTED, zerolinecolor=GRID, ticks="outside"),
                yaxis=dict(gridcolor=GRID, linecolor=MUTED, zerolinecolor=MUTED, ticks="outside"),
                margin=dict(l=60, r=20, t=40, b=40), hovermode="x unified",
                legend=dict(orientation="h", y=1.02, x=0, yanchor="bottom"),
                title=dict(font=dict(size=13)), width=WIDTH))
PLOT_CONFIG = {"displaylogo": False, "responsive": False,
               "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"]}

_env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                          undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _x(index) -> np.ndarray:
    """Chart times as UTC wall-clock ``datetime64`` (plotly encodes them fast, and shows no offset)."""
    return index.tz_convert("UTC").tz_localize(None).to_numpy()


def _growth_figure(result: BacktestResult, benchmark: BacktestResult | None) -> go.Figure:
    fig = go.Figure()
    for res, name, style in ((result, "strategy", dict(color=STRATEGY, width=1.6)),
                             (benchmark, "buy & hold", dict(color=BENCHMARK, width=1.2, dash="dot"))):
        if res is None:
            continue
        g = thin(res.equity / res.initial_cash, CHART_POINTS)
        fig.add_trace(go.Scatter(x=_x(g.index), y=g.to_numpy(), name=name, mode="lines", line=style,
                                 customdata=(g.to_numpy() - 1.0) * 100,
                                 hovertemplate="%{customdata:+.2f}%"))
    fig.add_hline(y=1.0, line=dict(color=MUTED, width=0.8))
    fig.update_layout(template=PRINT_THEME, height=340, title="Cumulative return against buy & hold",
                      yaxis_title="growth of 1 (×)",
                      updatemenus=[dict(type="buttons", direction="right", x=1.0, xanchor="right", y=1.16,
                                        showactive=True, buttons=[
                                            dict(label="Linear", method="relayout", args=[{"yaxis.type": "linear"}]),
                                            dict(label="Log", method="relayout", args=[{"yaxis.type": "log"}])])])
    return fig


def _underwater_figure(result: BacktestResult, benchmark: BacktestResult | None) -> go.Figure:
    fig = go.Figure()
    if benchmark is not None:
        b = thin(drawdown(benchmark.equity), CHART_POINTS) * 100
        fig.add_trace(go.Scatter(x=_x(b.index), y=b.to_numpy(), name="buy & hold", mode="lines",
                                 line=dict(color=BENCHMARK, width=1, dash="dot"), hovertemplate="%{y:.2f}%"))
    d = thin(drawdown(result.equity), CHART_POINTS) * 100
    fig.add_trace(go.Scatter(x=_x(d.index), y=d.to_numpy(), name="strategy", mode="lines", fill="tozeroy",
                             line=dict(color=LOSS, width=1), fillcolor="rgba(180,35,24,0.25)",
                             hovertemplate="%{y:.2f}%"))
    fig.update_layout(template=PRINT_THEME, height=240, title="Underwater (drawdown from the running peak)",
                      yaxis=dict(ticksuffix="%"))
    return fig


def _rolling_figure(result: BacktestResult, ppy: float) -> tuple[go.Figure, str]:
    window = rolling_window(result.n_bars, result.bar_seconds)
    roll = thin(rolling_sharpe_volatility(result.equity, result.initial_cash, window, ppy), CHART_POINTS)
    span = fmt.duration(window * result.bar_seconds / 86400)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=("Rolling Sharpe ratio", "Rolling volatility (annualised)"))
    fig.add_trace(go.Scatter(x=_x(roll.index), y=roll["sharpe"].to_numpy(), name="Sharpe", mode="lines",
                             line=dict(color=STRATEGY, width=1.2), hovertemplate="%{y:.2f}"), row=1, col=1)
    fig.add_trace(go.Scatter(x=_x(roll.index), y=roll["volatility"].to_numpy() * 100, name="volatility",
                             mode="lines", line=dict(color=BENCHMARK, width=1.2), hovertemplate="%{y:.1f}%"),
                  row=2, col=1)
    fig.update_layout(template=PRINT_THEME, height=390, showlegend=False, margin=dict(t=64),
                      title=f"Rolling risk, trailing window of {window:,} bars ({span})")
    fig.update_yaxes(ticksuffix="%", row=2, col=1)
    fig.add_hline(y=0, line=dict(color=MUTED, width=0.8), row=1, col=1)
    return fig, span


def _distribution_figure(result: BacktestResult) -> go.Figure | None:
    trades = result.trades
    r = trades.loc[trades["exit_reason"] != "open", "return_pct"].to_numpy(dtype=float)
    if r.size == 0:
        return None
    fig = go.Figure(go.Histogram(x=r, nbinsx=min(50, max(10, int(math.sqrt(r.size)) * 2)),
                                 marker=dict(color=STRATEGY, line=dict(color="white", width=0.5)),
                                 hovertemplate="%{x}: %{y} trades<extra></extra>"))
    fig.add_vline(x=0, line=dict(color=INK, width=1))
    fig.add_vline(x=float(np.mean(r)), line=dict(color=GAIN if np.mean(r) >= 0 else LOSS, dash="dash", width=1),
                  annotation_text=f"mean {np.mean(r):+.2f}%", annotation_position="top right")
    fig.update_layout(template=PRINT_THEME, height=260, title=f"Distribution of trade returns ({r.size:,} closed "
                      "trades)", xaxis=dict(ticksuffix="%"), yaxis_title="trades", bargap=0.02, hovermode="closest")
    return fig


def _heat(value: float) -> str:
    """Background of a monthly-return cell: green for gains, red for losses, stronger up to ±10 %."""
    if value is None or not math.isfinite(value):
        return ""
    a = min(abs(value) / 0.10, 1.0) * 0.55 + 0.08
    return f"background:rgba(30,123,79,{a:.2f})" if value >= 0 else f"background:rgba(180,35,24,{a:.2f})"


def _monthly(result: BacktestResult) -> list[dict]:
    table = monthly_returns(result.equity, result.initial_cash)
    rows = []
    for year, row in table.iterrows():
        cells = [{"text": fmt.pct(row[str(m)], 1) if math.isfinite(row[str(m)]) else "",
                  "style": _heat(row[str(m)])} for m in range(1, 13)]
        rows.append({"year": int(year), "cells": cells, "total": fmt.pct(row["total"], 1),
                     "total_style": _heat(row["total"])})
    return rows


def _strategy_line(result: BacktestResult) -> str:
    params = (result.strategy or {}).get("params") or {}
    shown = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in params.items())
    name = (result.strategy or {}).get("name", "signals")
    return f"{name} ({shown})" if shown else name


def _assumptions(result: BacktestResult, window_span: str) -> list[tuple[str, str]]:
    a = result.assumptions or {}
    costs = result.config.get("costs", {})
    ann = conventions(result)
    out = [("Fills", a.get("fills", "")),
           ("Costs", f"taker fee {fmt.fraction_bps(costs.get('taker_fee'))}, maker fee "
                     f"{fmt.fraction_bps(costs.get('maker_fee'))}, slippage {fmt.bps(costs.get('slippage_bps'))} "
                     f"({costs.get('slippage_model', 'fixed')} model, capped at "
                     f"{fmt.bps(costs.get('max_slippage_bps'))}), funding {fmt.pct(costs.get('funding_rate'), 3)} "
                     f"every {costs.get('funding_interval_hours')} hours")]
    if "entry" in a:
        out.append((f"Entry ({a['entry']['mode']})", a["entry"]["rule"]))
    if "close_at_end" in a:
        c = a["close_at_end"]
        out.append(("End of data", f"{c['rule']}. In this run: {c['trades_closed_at_end']} trade(s) closed at the "
                                   f"end, {c['trades_left_open']} left open."))
    if "ruin" in a:
        r = a["ruin"]
        happened = (f"In this run the account was liquidated at {fmt.timestamp(r.get('time'))} UTC."
                    if r.get("happened") else "In this run the account was never liquidated.")
        out.append(("Ruin", f"{r['rule']}; maintenance margin {fmt.pct(r.get('maintenance_margin'))}. {happened}"))
    out.append(("Annualisation", f"{ann['calendar']}: {ann['periods_per_year']:,.6g} periods per year; the data "
                                 f"span {ann['years']:.3f} calendar years. Rolling charts use a trailing window "
                                 f"of {window_span}."))
    out.append(("Benchmark", "buy & hold of the same symbols over the same span, with the same costs and sizing"))
    return out


def _formulas(result: BacktestResult) -> list[tuple[str, str]]:
    c = conventions(result)
    return [("Bar returns", c["returns"]), ("CAGR", c["cagr"]), ("Volatility", c["volatility"]),
            (f"Sharpe ({c['sharpe_convention']})", c["sharpe"]), (f"Sortino ({c['sharpe_convention']})", c["sortino"]),
            ("Calmar", c["calmar"]), ("Omega", c["omega"]), ("Max drawdown", c["max_drawdown"]),
            ("Trade statistics", c["trades"]), ("Risk-free rate", f"{c['risk_free_rate']:g}")]


def _chart(fig: go.Figure, div_id: str, first: bool) -> Markup:
    return Markup(fig.to_html(full_html=False, include_plotlyjs=first, div_id=div_id, config=PLOT_CONFIG))


def tear_sheet_context(result: BacktestResult, benchmark: BacktestResult | None = None) -> dict:
    """Everything the template shows, as plain strings and rows (charts as HTML fragments)."""
    report = metrics_report(result)
    values = report.values
    bench_values = metrics_report(benchmark).values if benchmark is not None else None
    if benchmark is not None and (benchmark.start, benchmark.end) != (result.start, result.end):
        raise ValueError("the benchmark must cover the same span as the result")
    intraday = result.bar_seconds < 86400
    ppy = report.conventions["periods_per_year"]

    headline = []
    for key in HEADLINE:
        item = {"key": key, "label": fmt.metric_label(key, METRIC_LABELS), "value": fmt.metric(key, values[key]),
                "raw": clean(values[key]), "sub": ""}
        if bench_values is not None and key != "n_trades":
            item["sub"] = f"buy & hold {fmt.metric(key, bench_values[key])}"
        headline.append(item)
    if bench_values is not None:
        excess = values["total_return"] - bench_values["total_return"]
        headline[0]["sub"] += f" · excess {fmt.pct(excess, signed=True)}"

    columns = ["strategy"] + (["buy_and_hold"] if bench_values is not None else [])
    metric_rows = [{"key": k, "label": fmt.metric_label(k, METRIC_LABELS),
                    "cells": [{"column": c, "raw": clean(v[k]), "text": fmt.metric(k, v[k])}
                              for c, v in zip(columns, [values] + ([bench_values] if bench_values else []))]}
                   for k in METRIC_LABELS]
    notes = [(fmt.metric_label(k, METRIC_LABELS), v) for k, v in report.notes.items()]

    worst = worst_drawdowns(result.equity, 5)
    drawdown_rows = [{"rank": i + 1, "start": fmt.timestamp(r.start, intraday),
                      "trough": fmt.timestamp(r.trough, intraday),
                      "recovery": fmt.timestamp(r.recovery, intraday) if r.recovered else "not recovered",
                      "depth": fmt.pct(r.depth), "length": fmt.duration(r.length_days)}
                     for i, r in enumerate(worst.itertuples(index=False))]

    rolling, span = _rolling_figure(result, ppy)
    figures = [("chart-cumulative", _growth_figure(result, benchmark)),
               ("chart-underwater", _underwater_figure(result, benchmark)), ("chart-rolling", rolling)]
    dist = _distribution_figure(result)
    if dist is not None:
        figures.append(("chart-trade-returns", dist))
    charts = {div_id: _chart(fig, div_id, i == 0) for i, (div_id, fig) in enumerate(figures)}

    config = []
    for key, value in config_items(result):
        label, shown = fmt.config_row(key, value)
        config.append({"key": key, "label": label, "value": shown})
    symbols = ", ".join(result.symbols)
    return {
        "title": f"Backtest tear sheet — {_strategy_line(result)} on {symbols}",
        "strategy": _strategy_line(result), "symbols": symbols, "timeframe": result.timeframe or "",
        "start": fmt.timestamp(result.start), "end": fmt.timestamp(result.end), "n_bars": f"{result.n_bars:,}",
        "span": fmt.duration((result.end - result.start).total_seconds() / 86400 + result.bar_seconds / 86400),
        "data_hash": result.data_hash, "initial_cash": fmt.money(result.initial_cash),
        "final_equity": fmt.money(result.final_equity), "has_benchmark": bench_values is not None,
        "headline": headline, "columns": [COLUMN_NAMES[c] for c in columns],
        "column_keys": columns, "metrics": metric_rows, "notes": notes, "months": fmt.MONTHS,
        "monthly": _monthly(result), "drawdowns": drawdown_rows, "charts": charts,
        "has_trade_chart": dist is not None, "assumptions": _assumptions(result, span),
        "formulas": _formulas(result), "other_sharpe": "geometric" if report.conventions["sharpe_convention"]
        == "arithmetic" else "arithmetic", "config": config, "ruined": result.ruin is not None,
    }


def tear_sheet_html(result: BacktestResult, benchmark: BacktestResult | None = None) -> str:
    """The tear sheet as one self-contained HTML document (nothing is loaded from elsewhere)."""
    return _env.get_template("tearsheet.html").render(**tear_sheet_context(result, benchmark))
