"""What the Signals page draws, from snapshots and stored rows: Plotly figures and table rows.

Pure: snapshot dicts (``app.analysis.snapshot.build_snapshot``) and frames in,
``plotly.graph_objects.Figure`` / lists of dicts out; no Dash, no database.

``heatmap_figure(snapshots)``                symbols x (timeframes + fused), coloured by score 0..100
``overview_rows(snapshots, now)``            the sortable table's rows
``breakdown(snapshot)``                      per-timeframe reasons with points, strongest timeframe first
``events_figure(candles, events, title, demo)``  candlesticks with the detected events marked
``history_figure(history, symbol)``          score history per timeframe and fused
``quality_rows(report)``                     the signal-quality table (by timeframe, horizon and label)
"""
from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from app.figures import DOWN, TEMPLATE, UP
from app.figures.market import candlestick_figure
from app.marketdata import TIMEFRAMES
from app.models.signal import FUSED

# red -> grey -> green over 0..100 (50 = neutral)
SCORE_COLORSCALE = [[0.0, "#c62828"], [0.3, "#e57373"], [0.5, "#9e9e9e"], [0.7, "#81c784"], [1.0, "#2e7d32"]]
COLUMNS = (*TIMEFRAMES, FUSED)
BULL, BEAR = UP, DOWN
_LAYOUT = dict(template=TEMPLATE)


def _score_of(snapshot: dict | None, column: str) -> float | None:
    if not snapshot:
        return None
    if column == FUSED:
        return snapshot["fused"]["score"]
    tf = snapshot["timeframes"].get(column)
    return None if tf is None else tf["score"]


def heatmap_figure(snapshots: dict[str, dict | None]) -> go.Figure:
    """One row per symbol, one column per timeframe plus ``fused``; empty cells where nothing is stored."""
    symbols = list(snapshots)
    z = [[_score_of(snapshots[s], c) for c in COLUMNS] for s in symbols]
    text = [["" if v is None else f"{v:.0f}" for v in row] for row in z]
    fig = go.Figure(go.Heatmap(
        z=z, x=list(COLUMNS), y=symbols, text=text, texttemplate="%{text}", zmin=0, zmax=100,
        colorscale=SCORE_COLORSCALE, colorbar=dict(title="score"), xgap=3, ygap=3,
        hovertemplate="%{y} · %{x}: %{z:.1f}<extra></extra>",
    ))
    fig.update_layout(**_LAYOUT, height=max(180, 70 + 48 * len(symbols)), margin=dict(l=90, r=20, t=20, b=30),
                      yaxis=dict(autorange="reversed"))
    return fig


def _age_minutes(snapshot: dict, now: datetime) -> float:
    computed = pd.Timestamp(snapshot["computed_at"])
    return float(round(max(0.0, (pd.Timestamp(now) - computed).total_seconds() / 60.0)))


def overview_rows(snapshots: dict[str, dict | None], now: datetime) -> list[dict]:
    """Rows for the sortable table: symbol, fused score, label, confidence, top reasons, age (whole minutes,
    so the rows change at most once a minute while the snapshots stay the same)."""
    rows = []
    for symbol, snap in snapshots.items():
        if not snap:
            rows.append({"symbol": symbol, "score": None, "label": "no signal yet", "confidence": None,
                         "reasons": "", "bar_time": "", "age_min": None})
            continue
        fused = snap["fused"]
        rows.append({"symbol": symbol, "score": round(fused["score"], 1), "label": fused["label"],
                     "confidence": round(fused["confidence"], 2), "reasons": " · ".join(snap["top_reasons"]),
                     "bar_time": pd.Timestamp(snap["bar_time"]).strftime("%Y-%m-%d %H:%M"),
                     "age_min": _age_minutes(snap, now)})
    return rows


def breakdown(snapshot: dict) -> list[dict]:
    """Per timeframe: score, label, confidence, weight share and its reasons (text, points), by share."""
    out = []
    for tf, d in snapshot["timeframes"].items():
        out.append({"timeframe": tf, "score": d["score"], "label": d["label"], "confidence": d["confidence"],
                    "share": d.get("share", 0.0), "weight": d.get("weight", 0.0), "bar_time": d["bar_time"],
                    "reasons": [(r["text"], r["points"]) for r in d["reasons"]]})
    out.sort(key=lambda d: -d["share"])
    return out


def events_figure(candles: pd.DataFrame, events: list[dict], title: str = "", demo: bool = False) -> go.Figure:
    """Candlesticks (with volume) and a marker per detected event inside the shown window.

    Bullish events sit under the bar's low (triangle up), bearish ones over
    its high (triangle down); hovering shows the event and its strength.
    """
    fig = candlestick_figure(candles, title=title, demo=demo)
    if len(candles) == 0 or not events:
        return fig
    ev = pd.DataFrame(events)
    ev["time"] = pd.to_datetime(ev["time"], utc=True)
    ev = ev[ev["time"].isin(candles.index)]
    pad = float((candles["high"] - candles["low"]).median() or 0.0)
    for direction, name, color, symbol in ((1, "bullish event", BULL, "triangle-up"),
                                          (-1, "bearish event", BEAR, "triangle-down")):
        part = ev[ev["direction"] == direction]
        if part.empty:
            continue
        bars = candles.loc[part["time"]]
        y = (bars["low"].to_numpy() - pad) if direction > 0 else (bars["high"].to_numpy() + pad)
        hover = [f"{e} ({k}, strength {s:.2f})" for e, k, s in zip(part["event"], part["kind"], part["strength"])]
        fig.add_trace(go.Scatter(x=part["time"], y=y, mode="markers", name=name, text=hover,
                                 hovertemplate="%{text}<extra></extra>",
                                 marker=dict(symbol=symbol, size=10, color=color, line=dict(width=1, color="#fff"))),
                      row=1, col=1)
    fig.update_layout(showlegend=True, legend=dict(orientation="h", y=1.02, x=1, xanchor="right"))
    return fig


def history_figure(history: pd.DataFrame, symbol: str = "") -> go.Figure:
    """Stored scores over time, one line per timeframe and a thicker one for the fused score."""
    fig = go.Figure()
    for tf in COLUMNS:
        part = history[history["timeframe"] == tf] if len(history) else history
        if part.empty:
            continue
        fused = tf == FUSED
        fig.add_trace(go.Scatter(x=part["bar_time"], y=part["score"], name=tf,
                                 mode="lines+markers" if len(part) < 3 else "lines",
                                 line=dict(width=3 if fused else 1.2), opacity=1.0 if fused else 0.75))
    for y, dash in ((50, "dot"), (40, "dash"), (60, "dash")):
        fig.add_hline(y=y, line=dict(color="#777", width=1, dash=dash))
    fig.update_layout(**_LAYOUT, height=300, margin=dict(l=40, r=20, t=30, b=30), yaxis=dict(range=[0, 100]),
                      title=f"{symbol} score history" if symbol else "", hovermode="x unified")
    return fig


def _num(x, digits: int):
    return None if x is None or (isinstance(x, float) and not np.isfinite(x)) else round(float(x), digits)


def quality_rows(report: pd.DataFrame) -> list[dict]:
    """One row per (timeframe, horizon, label) with a count; mean return and hit rate next to the base rate."""
    rows = []
    for r in report.to_dict("records"):
        if not r.get("count"):
            continue
        rows.append({
            "timeframe": r["timeframe"], "horizon": int(r["horizon"]), "label": r["label"], "count": int(r["count"]),
            "mean_return_pct": _num(r["mean_return_pct"], 4), "base_mean_return_pct": _num(r["base_mean_return_pct"], 4),
            "edge_pct": _num(r["edge_pct"], 4),
            "hit_rate": _num(r["hit_rate"], 3), "base_hit_rate": _num(r["base_hit_rate"], 3),
        })
    return rows
