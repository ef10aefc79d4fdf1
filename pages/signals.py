"""Signals: score heat-map, sortable overview, per-symbol breakdown with events, history, quality, weights."""
from __future__ import annotations

import json

import dash
import dash_bootstrap_components as dbc
from dash import dash_table, dcc, html
from flask import current_app

from app.analysis.config import ScoringConfig
from app.extensions import db
from app.market import query
from app.marketdata import TIMEFRAMES
from pages._ui import DARK_TABLE
from pages._catalog import page_catalog

dash.register_page(__name__, path="/signals", name="Signals", title="Signals · Candlewise")

# Component ids (convention 8)
HEATMAP, TABLE, SYMBOL, TIMEFRAME, SUMMARY, BREAKDOWN, CHART, HISTORY = (
    "signals-heatmap", "signals-table", "signals-symbol", "signals-timeframe", "signals-summary",
    "signals-breakdown", "signals-chart", "signals-history",
)
LSTM = "signals-lstm"
QUALITY, QUALITY_META, WEIGHTS, INTERVAL, STATUS, ERROR = (
    "signals-quality", "signals-quality-meta", "signals-weights", "signals-interval", "signals-status",
    "signals-error",
)
# what this tab shows (a version each), so an unchanged tick sends nothing
OVERVIEW_SEEN, DETAIL_SEEN, LSTM_SEEN = "signals-overview-seen", "signals-detail-seen", "signals-lstm-seen"

TABLE_COLUMNS = [
    {"name": "Symbol", "id": "symbol"}, {"name": "Fused score", "id": "score", "type": "numeric"},
    {"name": "Label", "id": "label"}, {"name": "Confidence", "id": "confidence", "type": "numeric"},
    {"name": "Top reasons", "id": "reasons"}, {"name": "Bar (UTC)", "id": "bar_time"},
    {"name": "Age (min)", "id": "age_min", "type": "numeric"},
]
QUALITY_COLUMNS = [
    {"name": "TF", "id": "timeframe"}, {"name": "Horizon (bars)", "id": "horizon", "type": "numeric"},
    {"name": "Label", "id": "label"}, {"name": "Count", "id": "count", "type": "numeric"},
    {"name": "Mean fwd return %", "id": "mean_return_pct", "type": "numeric"},
    {"name": "Base mean %", "id": "base_mean_return_pct", "type": "numeric"},
    {"name": "Edge %", "id": "edge_pct", "type": "numeric"},
    {"name": "Hit rate", "id": "hit_rate", "type": "numeric"},
    {"name": "Base hit rate", "id": "base_hit_rate", "type": "numeric"},
]


def _table(id_: str, columns: list[dict], page_size: int, **kw) -> dash_table.DataTable:
    return dash_table.DataTable(id=id_, columns=columns, data=[], sort_action="native", page_size=page_size,
                                **DARK_TABLE, **kw)


def layout(symbol: str | None = None, **_query):
    cat = page_catalog()
    error = None
    selected = cat.symbols[0] if cat.symbols else None
    if symbol:
        try:
            selected = query.resolve(cat, symbol, None)[0]
        except query.UnknownSeries as exc:
            error = str(exc)
    refresh_ms = current_app.config["CW_SETTINGS"].refresh_ms
    weights = json.dumps(ScoringConfig().to_dict(), indent=2)
    return html.Div([
        dbc.Alert(error, color="warning", id=ERROR, is_open=bool(error), dismissable=True),
        html.Div([
            html.H3([html.I(className="bi bi-activity me-2"), "Signals"], className="mb-1"),
            html.P(["Scores run 0 (strong sell) to 100 (strong buy), 50 is neutral. They add up indicator "
                    "readings and chart events with ", html.Strong("hand-set weights, not fitted to data"),
                    "; the Signal quality section below shows how they did on the stored history."],
                   className="text-muted small mb-2", id="signals-disclaimer"),
        ]),
        dcc.Graph(id=HEATMAP, config={"displaylogo": False, "displayModeBar": False}),
        _table(TABLE, TABLE_COLUMNS, 20, row_selectable=False, style_table={"overflowX": "auto"}),
        html.Small(id=STATUS, className="text-muted d-block mb-3"),
        dbc.Row([
            dbc.Col(dcc.Dropdown(id=SYMBOL, options=cat.symbols, value=selected, clearable=False,
                                 className="text-dark"), md=3),
            dbc.Col(dbc.RadioItems(id=TIMEFRAME, options=[{"label": t, "value": t} for t in TIMEFRAMES], value="1h",
                                   inline=True, className="btn-group", inputClassName="btn-check",
                                   labelClassName="btn btn-outline-info btn-sm", labelCheckedClassName="active"),
                    md=6),
            dbc.Col(html.Div(id=SUMMARY, className="text-end"), md=3),
        ], className="g-2 align-items-center mb-2"),
        dbc.Row([
            dbc.Col(dbc.Card([dbc.CardHeader("Score breakdown"), dbc.CardBody(id=BREAKDOWN)]), lg=5),
            dbc.Col(dcc.Graph(id=CHART, config={"displaylogo": False}), lg=7),
        ], className="g-3 mb-3"),
        dcc.Graph(id=HISTORY, config={"displaylogo": False}),
        dbc.Card([
            dbc.CardHeader("LSTM prediction (champion model)"),
            dbc.CardBody([
                html.P("p(up): the model's probability that the next bar closes higher, made at the close of the "
                       "bar shown; ± the spread (standard deviation) across the version's walk-forward fold "
                       "models. It is withheld when the input window is out of the training distribution (the "
                       "reason is shown). Accuracy is out of sample (walk-forward), next to two naive baselines; a "
                       "model without an edge over them is labelled so. Live accuracy: the champion's stored "
                       "predictions, scored when their next bar closed. The LSTM is not part of the score above.",
                       className="text-muted small"),
                html.Div(id=LSTM),
            ]),
        ], className="mb-3"),
        dbc.Card([
            dbc.CardHeader("Signal quality"),
            dbc.CardBody([
                html.P("Forward return after each label, per timeframe and horizon, next to the unconditional "
                       "base rate of the same bars. Scores are computed bar by bar from past data only with "
                       "fixed hand-set weights (nothing is fitted), so every bar is out of sample. Forward "
                       "returns overlap for horizons above 1 bar, so counts are not independent.",
                       className="text-muted small"),
                html.Div(id=QUALITY_META, className="small mb-2"),
                _table(QUALITY, QUALITY_COLUMNS, 18),
            ]),
        ], className="mb-3"),
        html.Details([
            html.Summary("Scoring weights (hand-set, not fitted)"),
            html.Pre(weights, id=WEIGHTS, className="small text-light"),
        ], className="mb-4"),
        dcc.Interval(id=INTERVAL, interval=refresh_ms, n_intervals=0),
        dcc.Store(id=OVERVIEW_SEEN), dcc.Store(id=DETAIL_SEEN), dcc.Store(id=LSTM_SEEN),
    ])
