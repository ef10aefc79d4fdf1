"""What the Admin Models card draws: the reliability diagram of a model version.

``reliability_figure(curves, title)``: one line per named curve (rows of
``ml.metrics.reliability_curve``: ``mean_p`` against ``up_share``, marker size
by the bin's count) next to the diagonal of perfect calibration. The card
passes the walk-forward curves (raw and calibrated, out of sample) and the
live curve of each version's scored predictions.
"""
from __future__ import annotations

import plotly.graph_objects as go

from app.figures import TEMPLATE

COLORS = ("#9e9e9e", "#4fc3f7", "#ffb74d", "#81c784", "#ba68c8")


def reliability_figure(curves: dict[str, list[dict]], title: str = "Reliability") -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfectly calibrated",
                             line=dict(color="#616161", dash="dot")))
    for k, (name, rows) in enumerate(curves.items()):
        if not rows:
            continue
        n = [r["n"] for r in rows]
        biggest = max(n)
        fig.add_trace(go.Scatter(
            x=[r["mean_p"] for r in rows], y=[r["up_share"] for r in rows], mode="lines+markers", name=name,
            marker=dict(size=[6 + 10 * c / biggest for c in n], color=COLORS[k % len(COLORS)]),
            line=dict(color=COLORS[k % len(COLORS)]),
            customdata=n, hovertemplate="mean p(up) %{x:.3f}<br>share up %{y:.3f}<br>%{customdata} bars"))
    fig.update_layout(template=TEMPLATE, title=title, height=300, margin=dict(l=40, r=10, t=40, b=40),
                      xaxis=dict(title="predicted p(up)", range=[0, 1]),
                      yaxis=dict(title="observed share up", range=[0, 1]),
                      legend=dict(orientation="h", y=-0.3))
    return fig
