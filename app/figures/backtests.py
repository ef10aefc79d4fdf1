"""Plotly figures and display helpers for the Backtests page and the tear sheet (pure: pandas in, figures out).

Curves longer than ``CHART_POINTS`` are thinned to the last value of each
bucket (:func:`app.figures.thin`), so a 1m run over a year stays light in the
browser.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.backtest.metrics import METRIC_LABELS, drawdown
from app.figures import DOWN, TEMPLATE, UP, thin

PERCENT = {"total_return", "annual_return", "volatility", "max_drawdown", "win_rate", "exposure"}
_LAYOUT = dict(template=TEMPLATE, margin=dict(l=50, r=20, t=40, b=30), hovermode="x unified",
               legend=dict(orientation="h", y=1.02, x=0, yanchor="bottom"))


def fmt_value(key: str, value) -> str:
    """One metric for display: percentages for the fractional ones, infinities as symbols."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—" if value is None or math.isnan(value) else ("∞" if value > 0 else "-∞")
    if key in PERCENT:
        return f"{value * 100:.2f}%"
    if key == "n_trades":
        return str(int(value))
    return f"{value:,.4f}"


def fmt_metric(key: str, value) -> str:
    if value is None:
        return "—"
    return fmt_value(key, float(value))


def equity_figure(equity: pd.Series, benchmark: pd.Series | None, title: str = "Equity") -> go.Figure:
    fig = go.Figure()
    e = thin(equity)
    fig.add_trace(go.Scatter(x=e.index, y=e.to_numpy(), name="strategy", mode="lines", line=dict(color="#3498db")))
    if benchmark is not None:
        b = thin(benchmark)
        fig.add_trace(go.Scatter(x=b.index, y=b.to_numpy(), name="buy & hold", mode="lines",
                                 line=dict(color="#aaaaaa", dash="dot")))
    fig.update_layout(title=title, height=360, yaxis_title="equity (quote)", **_LAYOUT)
    return fig


def drawdown_figure(equity: pd.Series, benchmark: pd.Series | None) -> go.Figure:
    fig = go.Figure()
    dd = thin(drawdown(equity)) * 100
    fig.add_trace(go.Scatter(x=dd.index, y=dd.to_numpy(), name="strategy", fill="tozeroy", mode="lines",
                             line=dict(color=DOWN)))
    if benchmark is not None:
        b = thin(drawdown(benchmark)) * 100
        fig.add_trace(go.Scatter(x=b.index, y=b.to_numpy(), name="buy & hold", mode="lines",
                                 line=dict(color="#aaaaaa", dash="dot")))
    fig.update_layout(title="Drawdown (underwater, %)", height=260, yaxis_title="%", **_LAYOUT)
    return fig


def trades_figure(candles: pd.DataFrame, trades: pd.DataFrame, title: str) -> go.Figure:
    """Candlesticks with entries (triangles: up = long, down = short) and exits (x) marked."""
    fig = make_subplots(rows=1, cols=1)
    fig.add_trace(go.Candlestick(x=candles.index, open=candles["open"], high=candles["high"], low=candles["low"],
                                 close=candles["close"], name="price", increasing_line_color=UP,
                                 decreasing_line_color=DOWN, showlegend=False))
    if len(candles) and len(trades):
        first = candles.index[0]
        shown = trades[trades["exit_time"] >= first]
        entries = shown[shown["entry_time"] >= first]
        long_ = entries[entries["side"] == "long"]
        short = entries[entries["side"] == "short"]
        fig.add_trace(go.Scatter(x=long_["entry_time"], y=long_["entry_price"], mode="markers", name="long entry",
                                 marker=dict(symbol="triangle-up", size=11, color=UP, line=dict(width=1))))
        fig.add_trace(go.Scatter(x=short["entry_time"], y=short["entry_price"], mode="markers", name="short entry",
                                 marker=dict(symbol="triangle-down", size=11, color=DOWN, line=dict(width=1))))
        fig.add_trace(go.Scatter(x=shown["exit_time"], y=shown["exit_price"], mode="markers", name="exit",
                                 text=shown["exit_reason"].astype(str),
                                 marker=dict(symbol="x", size=9, color="#f1c40f")))
    fig.update_layout(title=title, height=460, xaxis_rangeslider_visible=False, **_LAYOUT)
    return fig


def monthly_figure(monthly: pd.DataFrame) -> go.Figure:
    months = [str(m) for m in range(1, 13)]
    z = monthly[months].to_numpy(dtype=float) * 100 if len(monthly) else np.empty((0, 12))
    fig = go.Figure(go.Heatmap(z=z, x=["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                                       "Dec"], y=[str(y) for y in monthly.index], colorscale="RdYlGn", zmid=0,
                               texttemplate="%{z:.1f}%", colorbar=dict(title="%")))
    fig.update_layout(title="Monthly returns (%)", height=140 + 40 * max(len(monthly), 1), **_LAYOUT)
    return fig


def compare_figure(curves: dict[str, pd.Series]) -> go.Figure:
    """Equity curves of several runs, each rebased to 100 at its start."""
    fig = go.Figure()
    for label, equity in curves.items():
        e = thin(equity)
        base = float(equity.iloc[0]) if len(equity) else 1.0
        fig.add_trace(go.Scatter(x=e.index, y=e.to_numpy() / base * 100, name=label, mode="lines"))
    fig.update_layout(title="Equity, rebased to 100", height=360, **_LAYOUT)
    return fig


def metric_rows(metrics: dict, benchmark: dict | None) -> list[dict]:
    """Every metric as display rows: label, strategy, buy & hold."""
    return [{"metric": label, "strategy": fmt_metric(k, metrics.get(k)),
             "buy_and_hold": fmt_metric(k, (benchmark or {}).get(k))} for k, label in METRIC_LABELS.items()]


def history_rows(runs) -> list[dict]:
    """The Backtests page's history table rows for a user's stored runs (newest first)."""
    out = []
    for r in runs:
        m = r.metrics or {}
        out.append({"id": r.id, "created": f"{r.created_at:%Y-%m-%d %H:%M}", "status": r.status, "kind": r.kind,
                    "symbol": r.symbol, "timeframe": r.timeframe, "strategy": r.strategy,
                    "params": ", ".join(f"{k}={v}" for k, v in (r.params or {}).items()),
                    "total_return": fmt_metric("total_return", m.get("total_return")),
                    "sharpe": fmt_metric("sharpe", m.get("sharpe")),
                    "max_drawdown": fmt_metric("max_drawdown", m.get("max_drawdown")),
                    "n_trades": m.get("n_trades")})
    return out
