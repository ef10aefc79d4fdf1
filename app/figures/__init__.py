"""Presentation: plotly figure builders for the pages and the reports (pure: frames in, figures out).

No queries here and no Dash: callbacks and report renderers pass in what the domain computed.
Every figure uses the one dark template registered below, so the app and its reports look alike.
"""
from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

TEMPLATE = "candlewise"
UP, DOWN = "#26a69a", "#ef5350"  # candle and bar colours, everywhere
CHART_POINTS = 3000  # long curves are thinned to this many points (last value of each bucket)

pio.templates[TEMPLATE] = go.layout.Template(
    pio.templates["plotly_dark"],
    layout=dict(paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)"),
)


def thin(series: pd.Series, points: int = CHART_POINTS) -> pd.Series:
    """At most ``points`` values: the last value of each equal-sized bucket."""
    if len(series) <= points:
        return series
    step = math.ceil(len(series) / points)
    return series.iloc[step - 1::step]
