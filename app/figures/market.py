"""Plotly figures for candles: candlesticks over a volume panel, and the small updates that move them.

The figure's arrays are plain JSON lists (not plotly's base64 typed arrays), so a page can extend
or change them in place with ``dash.Patch`` when a bar closes or the forming bar moves:

``candlestick_figure(df, title, demo)``   the whole figure (trace 0 candles, trace 1 volume bars)
``bar_columns(df)``                       the per-bar values of both traces, as the figure holds them
``bar_signature(df)``                     a short string that changes when the last bar opens or moves
``tail_update(shown, tail, window)``      what to change in a shown figure to show ``tail``'s bars
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.figures import DOWN, TEMPLATE, UP

CANDLES, VOLUME = 0, 1  # trace indexes in candlestick_figure
PRICE_FIELDS = ("open", "high", "low", "close")


def bar_columns(df: pd.DataFrame) -> dict[str, list]:
    """x (ISO-8601 UTC open times, as plotly writes them), OHLCV and the volume bar colours, as lists."""
    opens, closes = df["open"].tolist(), df["close"].tolist()
    return {"x": [t.isoformat() for t in df.index], "open": opens, "high": df["high"].tolist(),
            "low": df["low"].tolist(), "close": closes, "volume": df["volume"].tolist(),
            "color": [UP if c >= o else DOWN for o, c in zip(opens, closes)]}


def bar_signature(df: pd.DataFrame) -> str:
    """The last bar's open time and values: equal signatures mean the chart has nothing new to show."""
    if len(df) == 0:
        return "empty"
    last = df.iloc[-1]
    return "|".join([df.index[-1].isoformat(), *(repr(float(last[c])) for c in (*PRICE_FIELDS, "volume"))])


def shown(df: pd.DataFrame) -> dict:
    """What a figure of ``df`` shows, for :func:`tail_update` on a later tick (kept in the page's store)."""
    return {"n": len(df), "last": df.index[-1].isoformat() if len(df) else None, "sig": bar_signature(df)}


def tail_update(seen: dict, tail: pd.DataFrame, window: int) -> dict | None:
    """How a figure showing ``seen`` (from :func:`shown`) becomes one ending with ``tail``'s last bar.

    ``tail`` holds the latest bars, oldest first. Returns ``{"set": (index, columns of one bar) or None,
    "append": columns of the newer bars, "drop": bars to remove from the front, "shown": the new
    ``shown``}``, or None when ``tail`` does not reach back to the shown last bar (the page is too far
    behind, or shows another series): then the whole figure is sent.
    """
    n, last = seen.get("n"), seen.get("last")
    # ``seen`` comes back from the browser: anything this code would not have written means "send the figure"
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= window or not isinstance(last, str) \
            or len(tail) == 0:
        return None
    try:
        last_ts = pd.Timestamp(last)
    except ValueError:
        return None
    if last_ts.tzinfo is None or last_ts not in tail.index:
        return None
    pos = tail.index.get_loc(last_ts)
    changed = tail.iloc[pos:pos + 1]
    newer = tail.iloc[pos + 1:]
    total = n + len(newer)
    drop = max(0, total - window)
    return {"set": (n - 1, bar_columns(changed)), "append": bar_columns(newer), "drop": drop,
            "shown": {"n": total - drop, "last": tail.index[-1].isoformat(), "sig": bar_signature(tail)}}


def candlestick_figure(df: pd.DataFrame, title: str = "", demo: bool = False) -> go.Figure:
    """Candlesticks with a volume panel underneath; a visible watermark on demo data."""
    cols = bar_columns(df)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.75, 0.25], vertical_spacing=0.02)
    fig.add_trace(go.Candlestick(
        x=cols["x"], open=cols["open"], high=cols["high"], low=cols["low"], close=cols["close"], name="price",
        increasing_line_color=UP, decreasing_line_color=DOWN, showlegend=False,
    ), row=1, col=1)
    fig.add_trace(go.Bar(x=cols["x"], y=cols["volume"], marker_color=cols["color"], name="volume", showlegend=False),
                  row=2, col=1)
    fig.update_layout(
        template=TEMPLATE, title=title, margin=dict(l=40, r=20, t=40, b=20), height=560,
        xaxis_rangeslider_visible=False, uirevision=title, hovermode="x unified",
    )
    fig.update_yaxes(title_text="price", row=1, col=1)
    fig.update_yaxes(title_text="volume", row=2, col=1)
    if demo:
        fig.add_annotation(text="OFFLINE DEMO DATA — synthetic, not real prices", xref="paper", yref="paper",
                           x=0.5, y=0.5, showarrow=False, font=dict(size=22, color="rgba(255,255,255,0.12)"))
    return fig
