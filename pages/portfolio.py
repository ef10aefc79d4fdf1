"""Portfolio: holdings with live P&L, allocation, equity and drawdown, transactions (form, CSV import,
edit, delete, export), paper strategies with their fills, and the reconciliation view."""
from __future__ import annotations

from datetime import datetime, timezone

import dash
import dash_bootstrap_components as dbc
from dash import dash_table, dcc, html
from flask import current_app

from app.auth.roles import current_can_write
from app.backtest.strategies import STRATEGIES
from app.extensions import db
from app.market import query
from app.portfolio.transactions import KINDS
from pages._ui import DARK_TABLE

dash.register_page(__name__, path="/portfolio", name="Portfolio", title="Portfolio · Candlewise")

# Component ids (convention 8)
REFRESH, METHOD, BENCH, SUMMARY, HOLDINGS, ALLOCATION, EQUITY, HISTORY_MSG = (
    "pf-refresh", "pf-method", "pf-benchmark", "pf-summary", "pf-holdings", "pf-allocation", "pf-equity",
    "pf-history-msg")
TX_KIND, TX_ASSET, TX_QTY, TX_PRICE, TX_FEE, TX_TIME, TX_NOTE = (
    "pf-tx-kind", "pf-tx-asset", "pf-tx-quantity", "pf-tx-price", "pf-tx-fee", "pf-tx-time", "pf-tx-note")
TX_ADD, TX_UPDATE, TX_DELETE, TX_MSG, TX_TABLE, TX_VERSION = (
    "pf-tx-add", "pf-tx-update", "pf-tx-delete", "pf-tx-msg", "pf-tx-table", "pf-tx-version")
IMPORT, IMPORT_PARTIAL, IMPORT_MSG = "pf-import", "pf-import-partial", "pf-import-msg"
EXPORT_TX, EXPORT_POS, DOWNLOAD = "pf-export-tx", "pf-export-positions", "pf-download"
PS_SYMBOL, PS_TF, PS_STRATEGY, PS_PARAMS, PS_CASH, PS_STOP, PS_START = (
    "pf-ps-symbol", "pf-ps-timeframe", "pf-ps-strategy", "pf-ps-params", "pf-ps-cash", "pf-ps-stop", "pf-ps-start")
PS_ADD, PS_MSG, PS_TABLE, PS_TOGGLE, PS_FILLS, PS_RECONCILE, RECON = (
    "pf-ps-add", "pf-ps-msg", "pf-ps-table", "pf-ps-toggle", "pf-ps-fills", "pf-ps-reconcile", "pf-recon")
RECON_FROM, RECON_TO = "pf-recon-from", "pf-recon-to"
PORTFOLIO, PORTFOLIO_LIST = "pf-portfolio", "pf-portfolio-list"

OR_SYMBOL, OR_TF, OR_SIDE, OR_TYPE, OR_QTY, OR_PRICE, OR_TIF = (
    "pf-order-symbol", "pf-order-timeframe", "pf-order-side", "pf-order-type", "pf-order-qty", "pf-order-price",
    "pf-order-tif")
OR_PLACE, OR_MSG, OR_TABLE, OR_CANCEL, OR_ACCOUNT = (
    "pf-order-place", "pf-order-msg", "pf-orders", "pf-order-cancel", "pf-paper-account")

HOLDING_COLUMNS = [{"name": n, "id": i} for n, i in (
    ("Asset", "asset"), ("Quantity", "quantity"), ("Avg cost", "avg_cost"), ("Price", "price"), ("Value", "value"),
    ("Unrealised", "unrealised"), ("Unrealised %", "unrealised_pct"), ("Realised", "realised"))]
TX_COLUMNS = [{"name": n, "id": i} for n, i in (
    ("#", "id"), ("Time (UTC)", "time"), ("Kind", "kind"), ("Asset", "asset"), ("Quantity", "quantity"),
    ("Price", "price"), ("Fee", "fee"), ("Note", "note"))]
PAPER_COLUMNS = [{"name": n, "id": i} for n, i in (
    ("#", "id"), ("Symbol", "symbol"), ("TF", "timeframe"), ("Strategy", "strategy"), ("Params", "params"),
    ("Status", "status"), ("Through (UTC)", "through"), ("Cash", "cash"), ("Equity", "equity"), ("P&L", "pnl"),
    ("Fills", "fills"))] + [{"name": "Chart", "id": "chart", "presentation": "markdown"}]
FILL_COLUMNS = [{"name": n, "id": i} for n, i in (
    ("Trade", "trade"), ("Leg", "leg"), ("Side", "side"), ("Time (UTC)", "time"), ("Qty", "qty"),
    ("Price", "price"), ("Fee", "fee"), ("Reason", "reason"))]
ORDER_COLUMNS = [{"name": n, "id": i} for n, i in (
    ("#", "id"), ("Placed (UTC)", "placed"), ("Symbol", "symbol"), ("TF", "timeframe"), ("Side", "side"),
    ("Type", "type"), ("Qty", "qty"), ("Level", "price"), ("TIF", "tif"), ("Status", "status"),
    ("Filled at bar", "filled"), ("Fill price", "fill_price"), ("Fee", "fee"))]
RECON_COLUMNS = [{"name": n, "id": i} for n, i in (
    ("Trade", "trade"), ("Leg", "leg"), ("Status", "status"), ("Differs in", "fields"),
    ("Paper time", "paper_time"), ("Backtest time", "backtest_time"), ("Paper price", "paper_price"),
    ("Backtest price", "backtest_price"), ("Reason", "reason"))]


def _field(label, component, width=6):
    return dbc.Col([dbc.Label(label, html_for=component.id, className="small mb-0"), component], md=width,
                   className="mb-2")


def _transaction_form(assets, read_only):
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M")
    return dbc.Card([
        dbc.CardHeader("Transaction"),
        dbc.CardBody([
            dbc.Row([
                _field("Kind", dbc.Select(id=TX_KIND, options=list(KINDS), value="buy", size="sm"), 4),
                _field("Asset", dbc.Select(id=TX_ASSET, options=[*assets, "USDT"],
                                           value=assets[0] if assets else "USDT", size="sm"), 8),
                _field("Quantity", dbc.Input(id=TX_QTY, size="sm", placeholder="units or cash amount"), 4),
                _field("Price", dbc.Input(id=TX_PRICE, size="sm", placeholder="quote per unit"), 4),
                _field("Fee", dbc.Input(id=TX_FEE, size="sm", value="0"), 4),
                _field("Time (UTC)", dbc.Input(id=TX_TIME, size="sm", value=now), 6),
                _field("Note", dbc.Input(id=TX_NOTE, size="sm", maxLength=200), 6),
            ], className="g-2"),
            dbc.ButtonGroup([
                dbc.Button("Add", id=TX_ADD, color="primary", size="sm", disabled=read_only),
                dbc.Button("Update selected", id=TX_UPDATE, color="secondary", size="sm", disabled=read_only),
                dbc.Button("Delete selected", id=TX_DELETE, color="danger", size="sm", disabled=read_only),
            ], className="w-100"),
            html.Div(id=TX_MSG, className="mt-2"),
            html.Hr(),
            dcc.Upload(id=IMPORT, disabled=read_only, children=html.Div(
                ["Import CSV: drop or ", html.A("choose a file")], className="border border-secondary rounded p-2 "
                                                                         "text-center small")),
            dbc.Checkbox(id=IMPORT_PARTIAL, label="partial: keep the good rows", value=False, className="small"),
            dbc.FormText("Columns: time,kind,asset,quantity,price,fee,note (UTC times)."),
            html.Div(id=IMPORT_MSG, className="mt-2"),
        ]),
    ])


def _paper_form(cat, read_only):
    symbols = cat.symbols
    tfs = cat.timeframes.get(symbols[0], []) if symbols else []
    return dbc.Card([
        dbc.CardHeader("New paper strategy"),
        dbc.CardBody([
            dbc.Row([
                _field("Symbol", dbc.Select(id=PS_SYMBOL, options=symbols, value=symbols[0] if symbols else None,
                                            size="sm"), 6),
                _field("Timeframe", dbc.Select(id=PS_TF, options=tfs, value="1h" if "1h" in tfs else
                                               (tfs[0] if tfs else None), size="sm"), 6),
                _field("Strategy", dbc.Select(id=PS_STRATEGY, options=sorted(STRATEGIES), value="ma_cross",
                                              size="sm"), 6),
                _field("Parameters", dbc.Input(id=PS_PARAMS, size="sm", placeholder="fast=5, slow=20"), 6),
                _field("Virtual cash", dbc.Input(id=PS_CASH, size="sm", value="10000"), 4),
                _field("Stop-loss (%)", dbc.Input(id=PS_STOP, size="sm", placeholder="off"), 4),
                _field("Start (UTC)", dbc.Input(id=PS_START, size="sm", placeholder="now"), 4),
            ], className="g-2"),
            dbc.Button("Start paper trading", id=PS_ADD, color="primary", size="sm", className="w-100",
                       disabled=read_only),
            html.Div(id=PS_MSG, className="mt-2"),
            dbc.FormText("Fills use the backtest engine: next bar's open, fees, slippage, stops inside the bar."),
        ]),
    ])


def _order_form(cat, read_only):
    symbols = cat.symbols
    tfs = cat.timeframes.get(symbols[0], []) if symbols else []
    return dbc.Card([
        dbc.CardHeader("Manual paper order"),
        dbc.CardBody([
            dbc.Row([
                _field("Symbol", dbc.Select(id=OR_SYMBOL, options=symbols, value=symbols[0] if symbols else None,
                                            size="sm"), 6),
                _field("Bars", dbc.Select(id=OR_TF, options=tfs, value=tfs[0] if tfs else None, size="sm"), 6),
                _field("Side", dbc.Select(id=OR_SIDE, options=["buy", "sell"], value="buy", size="sm"), 4),
                _field("Type", dbc.Select(id=OR_TYPE, options=["market", "limit", "stop"], value="market",
                                          size="sm"), 4),
                _field("Time in force", dbc.Select(id=OR_TIF, options=["gtc", "ioc"], value="gtc", size="sm"), 4),
                _field("Quantity", dbc.Input(id=OR_QTY, size="sm"), 6),
                _field("Limit / stop price", dbc.Input(id=OR_PRICE, size="sm", placeholder="market: empty"), 6),
            ], className="g-2"),
            dbc.Button("Place paper order", id=OR_PLACE, color="primary", size="sm", className="w-100",
                       disabled=read_only),
            html.Div(id=OR_MSG, className="mt-2"),
            dbc.FormText("Filled on the next closed bars: market at the open, limit at the level (maker fee), "
                         "stop at the level or the open on a gap; ioc gets one bar."),
        ]),
    ], className="mt-2")


def _table(id_, columns, **kw):
    return dash_table.DataTable(id=id_, columns=columns, data=[], page_size=10, sort_action="native",
                                **DARK_TABLE, **kw)


def layout(**_query):
    cat = query.catalog(db.session)
    db.session.commit()   # end the read transaction before the layout is serialised
    read_only = not current_can_write()
    settings = current_app.config["CW_SETTINGS"]
    return html.Div([
        html.H3([html.I(className="bi bi-wallet2 me-2"), "Portfolio",
                 dbc.Badge("read-only", color="secondary", className="ms-2", id="pf-read-only")
                 if read_only else None]),
        dbc.Row([dbc.Col([dbc.Label("Portfolio", html_for=PORTFOLIO, className="small mb-0"),
                          dbc.Input(id=PORTFOLIO, value="main", size="sm", debounce=True, list=PORTFOLIO_LIST,
                                    maxLength=40),
                          html.Datalist(id=PORTFOLIO_LIST, children=[]),
                          dbc.FormText("Pick one of yours or type a new name; its first transaction creates it.")],
                         md=3)], className="mb-2"),
        dbc.Row([
            dbc.Col([
                dbc.Row(id=SUMMARY, className="g-2 mb-2"),
                dbc.Card([dbc.CardHeader(["Holdings ", dbc.RadioItems(
                    id=METHOD, value="fifo", inline=True, className="d-inline ms-2 small",
                    options=[{"label": "FIFO", "value": "fifo"}, {"label": "average cost", "value": "average"}])]),
                    dbc.CardBody([_table(HOLDINGS, HOLDING_COLUMNS),
                                  dbc.ButtonGroup([dbc.Button("Export positions CSV", id=EXPORT_POS, size="sm",
                                                              color="secondary"),
                                                   dbc.Button("Export transactions CSV", id=EXPORT_TX, size="sm",
                                                              color="secondary")], className="mt-2")])]),
                dbc.Row([dbc.Col(dcc.Graph(id=ALLOCATION), md=5),
                         dbc.Col([dcc.Graph(id=EQUITY),
                                  dbc.Checkbox(id=BENCH, label="BTC buy-and-hold benchmark", value=True,
                                               className="small"),
                                  html.Div(id=HISTORY_MSG, className="small text-warning")], md=7)]),
                dbc.Card([dbc.CardHeader("Transactions — select a row to edit or delete it"),
                          dbc.CardBody(_table(TX_TABLE, TX_COLUMNS, row_selectable="single", selected_rows=[]))],
                         className="mt-2"),
            ], lg=8),
            dbc.Col(_transaction_form(cat.symbols, read_only), lg=4),
        ]),
        html.H4("Paper trading", className="mt-4"),
        dbc.Row([
            dbc.Col([
                dbc.Card([dbc.CardHeader("Your paper strategies — select one"),
                          dbc.CardBody([_table(PS_TABLE, PAPER_COLUMNS, row_selectable="single", selected_rows=[],
                                                 markdown_options={"link_target": "_self"}),
                                        dbc.ButtonGroup([
                                            dbc.Button("Stop / resume selected", id=PS_TOGGLE, size="sm",
                                                       color="warning", disabled=read_only),
                                            dbc.Button("Reconcile with backtest", id=PS_RECONCILE, size="sm",
                                                       color="info")], className="mt-2"),
                                        dbc.Row([dbc.Col(dbc.Input(id=RECON_FROM, size="sm",
                                                                   placeholder="span from (UTC, optional)"), md=4),
                                                 dbc.Col(dbc.Input(id=RECON_TO, size="sm",
                                                                   placeholder="span to (UTC, optional)"), md=4)],
                                                className="g-2 mt-1"),
                                        html.H6("Fills", className="mt-3"), _table(PS_FILLS, FILL_COLUMNS),
                                        html.Div(id=RECON, className="mt-3")])]),
            ], lg=8),
            dbc.Col([_paper_form(cat, read_only), _order_form(cat, read_only)], lg=4),
        ]),
        dbc.Card([dbc.CardHeader(["Manual paper orders ", html.Span(id=OR_ACCOUNT, className="small ms-2")]),
                  dbc.CardBody([_table(OR_TABLE, ORDER_COLUMNS, row_selectable="single", selected_rows=[]),
                                dbc.Button("Cancel selected order", id=OR_CANCEL, size="sm", color="danger",
                                           className="mt-2", disabled=read_only)])], className="mt-2"),
        dcc.Store(id=TX_VERSION, data=0), dcc.Download(id=DOWNLOAD),
        dcc.Interval(id=REFRESH, interval=settings.refresh_ms),
    ])
