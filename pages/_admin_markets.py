"""Admin page, markets section: the watch-list (exchange, symbol, timeframes), adding a market with
its backfill's progress, removing one with history kept or deleted after a confirmation (ids here)."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from app.market.watchlist import EXCHANGES

(MK_TABLE, MK_MSG, MK_EXCHANGE, MK_SYMBOL, MK_TFS, MK_ADD, MK_JOB, MK_POLL, MK_PROGRESS, MK_HISTORY, MK_CONFIRM,
 MK_PENDING) = (
    "admin-markets-table", "admin-markets-msg", "admin-market-exchange", "admin-market-symbol",
    "admin-market-timeframes", "admin-market-add", "admin-market-job", "admin-market-poll", "admin-market-progress",
    "admin-market-history", "admin-market-confirm-remove", "admin-market-pending-remove")
MK_REMOVE = "admin-market-remove"  # pattern id per row, index "exchange|symbol"
HISTORY = ("keep", "delete")


def markets_card(timeframes):
    return dbc.Card([
        dbc.CardHeader("Markets (watch-list)"),
        dbc.CardBody([
            html.P("The markets the schedule ingests. Adding one checks the symbol with the exchange and loads "
                   "its recent history; it then shows on every page. Removing one stops its ingestion; its "
                   "stored candles are kept or deleted, as chosen below. 'auto' is the default feed "
                   "(MARKET_DATA_SOURCE).", className="text-muted small"),
            html.Div(id=MK_TABLE, className="mb-2"),
            dbc.Row([
                dbc.Col(dcc.Dropdown(id=MK_EXCHANGE, options=list(EXCHANGES), value="auto", clearable=False), md=2),
                dbc.Col(dbc.Input(id=MK_SYMBOL, placeholder="symbol, e.g. SOL/USDT", maxLength=40, size="sm"), md=3),
                dbc.Col(dcc.Dropdown(id=MK_TFS, options=list(timeframes), value=list(timeframes), multi=True), md=4),
                dbc.Col(dbc.Button("Add market", id=MK_ADD, color="info", size="sm"), md="auto"),
            ], className="g-2 mb-2"),
            html.Div(id=MK_PROGRESS, className="mb-2"),
            dcc.Store(id=MK_JOB),
            dcc.Interval(id=MK_POLL, interval=1000, disabled=True),
            dbc.Row([
                dbc.Col(html.Span("On remove, history is:", className="small"), md="auto"),
                dbc.Col(dbc.RadioItems(id=MK_HISTORY, options=[{"label": "kept", "value": "keep"},
                                                                {"label": "deleted", "value": "delete"}],
                                       value="keep", inline=True), md="auto"),
            ], className="g-2 mb-2"),
            dcc.ConfirmDialog(id=MK_CONFIRM),
            dcc.Store(id=MK_PENDING),
            html.Div(id=MK_MSG),
        ]),
    ], className="mb-3")
