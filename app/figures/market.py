"""Plotly figures for candles: candlesticks over a volume panel."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.figures import DOWN, TEMPLATE, UP


def candlestick_figure(df: pd.DataFrame, title: str = "", demo: bool = False) -> go.Figure:
    """Candlesticks with a volume panel underneath; a visible watermark on demo data."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.75, 0.25], vertical_spacing=0.02)
    fig.add_trace(go.Candlestick(
        x=df.index, open=df["open"], high=df["high"], low=df["low"], close=df["close"], name="price",
        increasing_line_color=UP, decreasing_line_color=DOWN, showlegend=False,
    ), row=1, col=1)
    colors = [UP if c >= o else DOWN for o, c in zip(df["open"].to_numpy(), df["close"].to_numpy())]
    fig.add_trace(go.Bar(x=df.index, y=df["volume"], marker_color=colors, name="volume", showlegend=False),
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
