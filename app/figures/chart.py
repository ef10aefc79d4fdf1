"""The Market page's trader chart: candles, the forming bar, study overlays and panes, and the user's marks.

Pure: frames and plain data in, plotly figures (or their JSON dicts) out. Trace order is fixed by the
chart spec, so a tick can patch traces by index (``callbacks.live_chart.chart_patch``):

    0  closed candles           1  the forming bar (drawn hollow and pale)
    2… one trace per study series (``app.market.charts.studies.series_names(spec)``)
    …  the p(up) pane's trace when the spec has that pane
    then the marks ``apply_marks`` appends (events, alert firings, trade entries and exits)

``chart_figure(closed, forming, studies, spec, ...)``  the shared figure (the same for every user)
``apply_marks(fig, marks)``                           a copy of a figure dict with one user's marks
``trace_layout(spec)``                                {series name: trace index} of ``chart_figure``
``shown_state(closed, forming)``                      what a figure shows, for the next tick
``tick_update(seen, tail_closed, forming, studies, window)``  what a tick changes, or None (send the figure)
"""
from __future__ import annotations

import copy
import math

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.figures import DOWN, TEMPLATE, UP
from app.market.charts.studies import series_names

CANDLES, FORMING, FIRST_SERIES = 0, 1, 2
PRICE_FIELDS = ("open", "high", "low", "close")
CANDLE_FIELDS = ("x", *PRICE_FIELDS, "text")  # what a tick extends, replaces or drops on a candle trace
PANE_ORDER = ("volume", "rsi", "macd", "atr", "pup")
PANE_TITLES = {"volume": "volume", "rsi": "RSI 14", "macd": "MACD", "atr": "ATR 14", "pup": "p(up)"}
PANE_OF = {"volume": "volume", "rsi": "rsi", "macd": "macd", "macd_signal": "macd", "macd_hist": "macd",
           "atr": "atr"}
COLORS = {"sma": "#ffb300", "ema": "#42a5f5", "bb_upper": "#ab47bc", "bb_mid": "#ab47bc", "bb_lower": "#ab47bc",
          "vwap": "#26c6da", "rsi": "#ffca28", "macd": "#42a5f5", "macd_signal": "#ff7043", "atr": "#8d6e63",
          "pup": "#66bb6a"}
BARS = ("volume", "macd_hist")  # series drawn as bars coloured per bar
MARK_COLOR, LEVEL_COLOR = "#ffca28", "#ffa726"
RANGES = (("1D", 1, "day"), ("1W", 7, "day"), ("1M", 1, "month"), ("3M", 3, "month"))


def _label(name: str, spec: dict) -> str:
    return {"sma": f"SMA {spec['sma']}", "ema": f"EMA {spec['ema']}", "bb_upper": "BB upper", "bb_mid": "BB mid",
            "bb_lower": "BB lower", "vwap": "VWAP", "volume": "volume", "rsi": "RSI", "macd": "MACD",
            "macd_signal": "signal", "macd_hist": "histogram", "atr": "ATR"}[name]


def values(array) -> list:
    """Floats as a JSON list, NaN and inf as None (plotly draws a gap)."""
    return [x if isinstance(x, float) and math.isfinite(x) else None for x in map(float, array)]


def bar_colors(name: str, array, closed: pd.DataFrame) -> list[str]:
    if name == "volume":
        return [UP if c >= o else DOWN for o, c in zip(closed["open"].tolist(), closed["close"].tolist())]
    return [UP if (x or 0) >= 0 else DOWN for x in values(array)]


def candle_columns(df: pd.DataFrame) -> dict[str, list]:
    """x, OHLC and the hover text (the bar's volume, so the readout shows OHLCV with no volume pane)."""
    return {"x": [t.isoformat() for t in df.index], **{f: df[f].tolist() for f in PRICE_FIELDS},
            "text": [f"volume {v:,.4g}" for v in df["volume"].tolist()]}


def bar_signature(df: pd.DataFrame) -> str | None:
    if len(df) == 0:
        return None
    last = df.iloc[-1]
    return "|".join([df.index[-1].isoformat(), *(repr(float(last[c])) for c in (*PRICE_FIELDS, "volume"))])


def pane_rows(spec: dict) -> list[str]:
    return ["price", *(p for p in PANE_ORDER if p in spec["panes"])]


def trace_layout(spec: dict) -> dict[str, int]:
    """{series name: trace index} of :func:`chart_figure` (``"pup"`` when the spec has the p(up) pane)."""
    out = {name: FIRST_SERIES + k for k, name in enumerate(series_names(spec))}
    if "pup" in spec["panes"]:
        out["pup"] = FIRST_SERIES + len(out)
    return out


def chart_figure(closed: pd.DataFrame, forming: pd.DataFrame, studies: dict, spec: dict, *, title: str = "",
                 demo: bool = False, log: bool = False, revision: str = "") -> go.Figure:
    """Candles (closed and forming), the spec's overlays on the price row and one row per pane."""
    rows = pane_rows(spec)
    weights = [3.0 if r == "price" else 1.0 for r in rows]
    fig = make_subplots(rows=len(rows), cols=1, shared_xaxes=True, vertical_spacing=0.02,
                        row_heights=[w / sum(weights) for w in weights])
    row_of = {r: k + 1 for k, r in enumerate(rows)}
    c = candle_columns(closed)
    fig.add_trace(go.Candlestick(x=c["x"], open=c["open"], high=c["high"], low=c["low"], close=c["close"],
                                 text=c["text"], name="price", increasing_line_color=UP, decreasing_line_color=DOWN,
                                 showlegend=False), row=1, col=1)
    f = candle_columns(forming)
    fig.add_trace(go.Candlestick(x=f["x"], open=f["open"], high=f["high"], low=f["low"], close=f["close"],
                                 text=f["text"], name="forming", opacity=0.55, showlegend=False,
                                 increasing=dict(line=dict(color="#b0bec5"), fillcolor="rgba(0,0,0,0)"),
                                 decreasing=dict(line=dict(color="#b0bec5"), fillcolor="rgba(0,0,0,0)")),
                  row=1, col=1)
    for name in series_names(spec):
        row = row_of.get(PANE_OF.get(name, "price"), 1)
        y = values(studies[name])
        if name in BARS:
            trace = go.Bar(x=c["x"], y=y, name=_label(name, spec), marker_color=bar_colors(name, studies[name], closed),
                           showlegend=False)
        else:
            trace = go.Scatter(x=c["x"], y=y, name=_label(name, spec), mode="lines",
                               line=dict(width=1.2, color=COLORS[name], dash="dot" if name.startswith("bb_") else None))
        fig.add_trace(trace, row=row, col=1)
    if "pup" in spec["panes"]:
        fig.add_trace(go.Scatter(x=[], y=[], name="p(up)", mode="lines", line=dict(width=1.5, color=COLORS["pup"])),
                      row=row_of["pup"], col=1)
        fig.update_yaxes(range=[0, 1], row=row_of["pup"], col=1)
        fig.add_hline(y=0.5, line=dict(color="#777", width=1, dash="dot"), row=row_of["pup"], col=1)
    if "rsi" in spec["panes"]:
        for level in (30, 70):
            fig.add_hline(y=level, line=dict(color="#777", width=1, dash="dot"), row=row_of["rsi"], col=1)
        fig.update_yaxes(range=[0, 100], row=row_of["rsi"], col=1)
    for r, k in row_of.items():
        fig.update_yaxes(title_text="price" if r == "price" else PANE_TITLES[r], row=k, col=1,
                         showspikes=True, spikemode="across", spikesnap="cursor", spikethickness=1,
                         spikedash="dot", spikecolor="#999")
    fig.update_yaxes(type="log" if log else "linear", row=1, col=1)
    fig.update_xaxes(showspikes=True, spikemode="across", spikesnap="cursor", spikethickness=1, spikedash="dot",
                     spikecolor="#999")
    fig.update_xaxes(row=1, col=1, rangeselector=dict(
        buttons=[dict(count=n, step=step, stepmode="backward", label=label) for label, n, step in RANGES]
        + [dict(step="all", label="all")], bgcolor="#333", activecolor="#555", font=dict(color="#ddd")))
    fig.update_layout(
        template=TEMPLATE, title=title, margin=dict(l=50, r=20, t=60, b=20), height=380 + 110 * (len(rows) - 1),
        xaxis_rangeslider_visible=False, uirevision=revision or title, hovermode="x unified",
        spikedistance=-1, legend=dict(orientation="h", y=1.0, x=1, xanchor="right", yanchor="bottom"),
        meta={"rows": rows},
    )
    if demo:
        fig.add_annotation(text="OFFLINE DEMO DATA — synthetic, not real prices", xref="paper", yref="paper",
                           x=0.5, y=0.5, showarrow=False, font=dict(size=22, color="rgba(255,255,255,0.12)"))
    return fig


def _scatter(x, y, name, symbol, color, text, yaxis="y") -> dict:
    return {"type": "scatter", "x": x, "y": y, "name": name, "mode": "markers", "text": text, "xaxis": "x",
            "yaxis": yaxis, "hovertemplate": "%{text}<extra></extra>",
            "marker": {"symbol": symbol, "size": 10, "color": color, "line": {"width": 1, "color": "#fff"}}}


def apply_marks(fig: dict, marks: dict, spec: dict) -> dict:
    """A copy of the figure dict ``fig`` (from :func:`chart_figure`) with one user's marks: detected events
    under/over their bar, alert levels as horizontal lines, alert firings, trade entries/exits, p(up)."""
    out = copy.copy(fig)
    out["data"] = list(fig["data"])
    out["layout"] = dict(fig["layout"])
    candles = fig["data"][CANDLES]
    at = {x: k for k, x in enumerate(candles.get("x") or [])}
    highs, lows = candles.get("high") or [], candles.get("low") or []
    pad = (sum(h - l for h, l in zip(highs, lows)) / len(highs)) if highs else 0.0
    events = [e for e in marks.get("events", []) if e.get("time") in at]
    for direction, name, color, symbol in ((1, "bullish event", UP, "triangle-up"),
                                          (-1, "bearish event", DOWN, "triangle-down")):
        part = [e for e in events if e.get("direction") == direction]
        ys = [(lows[at[e["time"]]] - pad) if direction > 0 else (highs[at[e["time"]]] + pad) for e in part]
        text = [f"{e.get('event')} ({e.get('kind')}, strength {float(e.get('strength') or 0):.2f})" for e in part]
        out["data"].append(_scatter([e["time"] for e in part], ys, name, symbol, color, text))
    fires = marks.get("fires", [])
    out["data"].append(_scatter([f["time"] for f in fires],
                                [f["value"] if f["value"] is not None else (highs[at[f["time"]]] if f["time"] in at
                                                                             else None) for f in fires],
                                "alert fired", "star", MARK_COLOR, [f["message"] for f in fires]))
    trades = marks.get("trades", [])
    out["data"].append(_scatter([t["entry_time"] for t in trades], [t["entry_price"] for t in trades], "trade entry",
                                "triangle-right", "#29b6f6", [f"{t['side']} entry" for t in trades]))
    closed = [t for t in trades if t.get("exit_time")]  # a paper trade still open has no exit yet
    out["data"].append(_scatter([t["exit_time"] for t in closed], [t["exit_price"] for t in closed], "trade exit",
                                "x", "#ec407a", [f"exit {t['return_pct']:+.2f}%" if t.get("return_pct") is not None
                                                 else "exit" for t in closed]))
    index = trace_layout(spec).get("pup")
    if index is not None:
        pup = marks.get("pup", [])
        out["data"][index] = {**fig["data"][index], "x": [p["time"] for p in pup], "y": [p["p_up"] for p in pup]}
        if not pup:  # the pane says why it is empty
            axis = fig["data"][index].get("yaxis", "y")
            out["layout"]["annotations"] = [*(fig["layout"].get("annotations") or []), {
                "text": "no champion model's p(up) for this series", "showarrow": False, "xref": "x domain",
                "yref": f"{axis} domain", "x": 0.5, "y": 0.5, "font": {"color": "#999", "size": 11},
                "name": "pup-empty"}]
    shapes = list(fig["layout"].get("shapes") or [])
    for level in marks.get("levels", []):
        shapes.append({"type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": "y", "y0": level["level"],
                       "y1": level["level"], "line": {"color": LEVEL_COLOR, "width": 1, "dash": "dash"},
                       "name": f"alert {level['id']}",
                       "label": {"text": f"{level['name']} {level['level']:g}", "textposition": "end",
                                 "font": {"color": LEVEL_COLOR, "size": 10}}})
    out["layout"]["shapes"] = shapes
    return out


def shown_state(closed: pd.DataFrame, forming: pd.DataFrame) -> dict:
    """What a figure of these bars shows, kept in the page's store for the next tick."""
    return {"n": len(closed), "first": closed.index[0].isoformat() if len(closed) else None,
            "last": closed.index[-1].isoformat() if len(closed) else None, "forming": bar_signature(forming)}


def tick_update(seen: dict, tail_closed: pd.DataFrame, forming: pd.DataFrame, window: int) -> dict | None:
    """How a figure showing ``seen`` becomes one of the latest bars: ``{"newer": the closed bars after the shown
    last one, "forming": the forming bar or None when unchanged, "drop": bars to take off the front, "shown"}``,
    ``{}`` when nothing changed, or None when ``tail_closed`` does not reach the shown last bar (or ``seen`` is
    not what this code writes): then the whole figure is sent."""
    n, last = seen.get("n"), seen.get("last")
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= window or not isinstance(last, str):
        return None
    try:
        last_ts = pd.Timestamp(last)
    except ValueError:
        return None
    if last_ts.tzinfo is None or last_ts not in tail_closed.index:
        return None
    newer = tail_closed[tail_closed.index > last_ts]
    sig = bar_signature(forming)
    if not len(newer) and sig == seen.get("forming"):
        return {}
    total = n + len(newer)
    drop = max(0, total - window)
    first = seen.get("first") if not drop else None
    return {"newer": newer, "forming": forming if sig != seen.get("forming") or len(newer) else None, "drop": drop,
            "shown": {"n": total - drop, "first": first, "last": (newer.index[-1] if len(newer) else last_ts).isoformat(),
                      "forming": sig}}
