"""Market: live candlestick chart with volume, symbol and timeframe selectors."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask import current_app

from app.extensions import db
from app.market import query
from app.marketdata import TIMEFRAMES
from pages._catalog import page_catalog

dash.register_page(__name__, path="/", name="Market", title="Market · Candlewise")

# Component ids (convention 8)
SYMBOL, TIMEFRAME, CHART, INTERVAL, BADGE, STATUS, TICKER, ERROR = (
    "market-symbol", "market-timeframe", "market-chart", "market-interval", "market-source-badge",
    "market-status", "market-ticker", "market-error",
)
# what this tab's chart and ticker row show (a version each), so an unchanged tick sends nothing
CHART_SEEN, TICKER_SEEN = "market-chart-seen", "market-ticker-seen"


def layout(symbol: str | None = None, tf: str | None = None, **_query):
    cat = page_catalog()
    try:
        sym, timeframe = query.resolve(cat, symbol, tf)
        error = None
    except query.UnknownSeries as exc:
        error = str(exc)
        sym = cat.symbols[0] if cat.symbols else None
        timeframe = (cat.timeframes.get(sym) or ["1h"])[0] if sym else "1h"
        if sym and "1h" in cat.timeframes.get(sym, []):
            timeframe = "1h"
    refresh_ms = current_app.config["CW_SETTINGS"].refresh_ms
    tf_options = [{"label": t, "value": t, "disabled": t not in cat.timeframes.get(sym, [])} for t in TIMEFRAMES]
    return html.Div([
        dbc.Alert(error, color="warning", id=ERROR, is_open=bool(error), dismissable=True),
        html.Div(id=TICKER, className="d-flex flex-wrap gap-2 mb-3"),
        dbc.Row([
            dbc.Col(dcc.Dropdown(id=SYMBOL, options=cat.symbols, value=sym, clearable=False,
                                 className="text-dark"), md=3),
            dbc.Col(dbc.RadioItems(id=TIMEFRAME, options=tf_options, value=timeframe, inline=True,
                                   className="btn-group", inputClassName="btn-check",
                                   labelClassName="btn btn-outline-info btn-sm",
                                   labelCheckedClassName="active"), md=6),
            dbc.Col(html.Div(id=BADGE, className="text-end"), md=3),
        ], className="g-2 align-items-center mb-2"),
        dcc.Loading(dcc.Graph(id=CHART, config={"displaylogo": False}), type="dot", delay_show=400),
        html.Small(id=STATUS, className="text-muted"),
        dcc.Interval(id=INTERVAL, interval=refresh_ms, n_intervals=0),
        dcc.Store(id=CHART_SEEN), dcc.Store(id=TICKER_SEEN),
    ])
