"""Backtests: a run form built from the strategy schemas, progress while a job runs, results, history."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dash_table, dcc, html
from flask_login import current_user

from app.backtest.config import SIZING_MODES
from app.backtest.results import list_runs
from app.backtest.requests import default_range, strategy_choices
from app.backtest.walkforward import OPTIMISE_METRICS
from app.extensions import db
from app.market import query, store
from app.figures.backtests import history_rows
from app.marketdata import TIMEFRAMES
from pages._ui import DARK_TABLE
from pages._catalog import page_catalog

dash.register_page(__name__, path="/backtests", name="Backtests", title="Backtests · Candlewise")

# Component ids (convention 8)
SYMBOLS, TIMEFRAME, START, END, STRATEGY, STRATEGY_INFO, PARAMS = (
    "bt-symbols", "bt-timeframe", "bt-start", "bt-end", "bt-strategy", "bt-strategy-info", "bt-params")
FEE, SLIP, SIZING, FRACTION, CASH, PER_TRADE, STOP, TAKE = (
    "bt-fee-bps", "bt-slippage-bps", "bt-sizing", "bt-fraction-pct", "bt-initial-cash", "bt-cash-per-trade",
    "bt-stop-loss-pct", "bt-take-profit-pct")
MODE, TRAIN, TEST, WF_METRIC, WF_BOX = "bt-mode", "bt-train-bars", "bt-test-bars", "bt-wf-metric", "bt-wf-box"
SUBMIT, FORM_MSG, PROGRESS, POLL, ACTIVE, VIEW = (
    "bt-submit", "bt-form-msg", "bt-progress", "bt-poll", "bt-active", "bt-view")
RESULT, HISTORY, COMPARE, BATCH = "bt-result", "bt-history", "bt-compare", "bt-batch-grid"
PARAM = "bt-param"  # pattern-matching id type: {"type": PARAM, "index": <parameter name>}

HISTORY_COLUMNS = [
    {"name": "#", "id": "id", "type": "numeric"}, {"name": "Created (UTC)", "id": "created"},
    {"name": "Status", "id": "status"}, {"name": "Kind", "id": "kind"}, {"name": "Symbol", "id": "symbol"},
    {"name": "TF", "id": "timeframe"}, {"name": "Strategy", "id": "strategy"}, {"name": "Params", "id": "params"},
    {"name": "Return", "id": "total_return"}, {"name": "Sharpe", "id": "sharpe"},
    {"name": "Max DD", "id": "max_drawdown"}, {"name": "Trades", "id": "n_trades"},
]


def _field(label: str, component, width: int = 6, help_: str | None = None):
    return dbc.Col([dbc.Label(label, html_for=component.id, className="small mb-0"), component,
                    dbc.FormText(help_) if help_ else None], md=width, className="mb-2")


def strategy_options() -> list[dict]:
    return [{"label": f"{s['name']} ({s['reason']})" if s["disabled"] else s["name"], "value": s["name"],
             "disabled": s["disabled"]} for s in strategy_choices()]


def _form(cat: query.Catalog, start: str, end: str):
    symbol = cat.symbols[:1]
    tfs = cat.timeframes.get(symbol[0], list(TIMEFRAMES)) if symbol else list(TIMEFRAMES)
    number = dict(type="number", size="sm")
    return dbc.Card([
        dbc.CardHeader("New backtest"),
        dbc.CardBody([
            dbc.Row([
                _field("Symbol(s)", dcc.Dropdown(id=SYMBOLS, options=cat.symbols, value=symbol, multi=True,
                                                 className="text-dark"), 12,
                       "Several symbols (or comma-separated parameter values) start a batch."),
                _field("Timeframe", dcc.Dropdown(id=TIMEFRAME, options=tfs, value="1h" if "1h" in tfs else tfs[0],
                                                 clearable=False, className="text-dark"), 4),
                _field("Start (UTC)", dbc.Input(id=START, value=start, placeholder="YYYY-MM-DD", size="sm"), 4),
                _field("End (UTC, inclusive)", dbc.Input(id=END, value=end, placeholder="YYYY-MM-DD", size="sm"), 4),
                _field("Strategy", dcc.Dropdown(id=STRATEGY, options=strategy_options(), value="ma_cross",
                                                clearable=False, className="text-dark"), 12),
            ], className="g-2"),
            html.Small(id=STRATEGY_INFO, className="text-muted d-block mb-2"),
            dbc.Row(id=PARAMS, className="g-2"),
            html.Hr(className="my-2"),
            dbc.Row([
                _field("Fee (bps)", dbc.Input(id=FEE, value=4, min=0, max=1000, step="any", **number), 6),
                _field("Slippage (bps)", dbc.Input(id=SLIP, value=2, min=0, max=1000, step="any", **number), 6),
                _field("Sizing", dbc.Select(id=SIZING, options=list(SIZING_MODES), value="fixed_fraction",
                                            size="sm"), 6),
                _field("Size (% of equity)", dbc.Input(id=FRACTION, value=100, step="any", **number), 6),
                _field("Initial cash", dbc.Input(id=CASH, value=10000, step="any", **number), 6),
                _field("Cash per trade", dbc.Input(id=PER_TRADE, value=1000, step="any", **number), 6),
                _field("Stop-loss (%)", dbc.Input(id=STOP, placeholder="off", step="any", **number), 6),
                _field("Take-profit (%)", dbc.Input(id=TAKE, placeholder="off", step="any", **number), 6),
            ], className="g-2"),
            dbc.RadioItems(id=MODE, value="single", inline=True, className="my-2",
                           options=[{"label": "Single run / batch", "value": "single"},
                                    {"label": "Walk-forward", "value": "walk_forward"}]),
            dbc.Collapse(dbc.Row([
                _field("Train bars", dbc.Input(id=TRAIN, value=500, **number), 4),
                _field("Test bars", dbc.Input(id=TEST, value=100, **number), 4),
                _field("Optimise", dbc.Select(id=WF_METRIC, options=list(OPTIMISE_METRICS), value="sharpe",
                                              size="sm"), 4),
                dbc.FormText("Comma-separated parameter values form the grid; the headline is out-of-sample."),
            ], className="g-2"), id=WF_BOX, is_open=False),
            dbc.Button([html.I(className="bi bi-play-fill me-1"), "Run backtest"], id=SUBMIT, color="primary",
                       className="mt-2 w-100"),
            html.Div(id=FORM_MSG, className="mt-2"),
        ]),
    ])


def _history(rows: list[dict]):
    return dbc.Card([
        dbc.CardHeader("Your runs — click a row to open it; tick two or more to compare"),
        dbc.CardBody([
            dash_table.DataTable(id=HISTORY, columns=HISTORY_COLUMNS, data=rows, row_selectable="multi",
                                 selected_rows=[], page_size=10, sort_action="native", **DARK_TABLE),
            html.Div(id=COMPARE, className="mt-3"),
        ]),
    ], className="mt-3")


def layout(**_query):
    cat = page_catalog(cached=False)
    start, end = "", ""
    if cat.symbols:
        conn = db.session.connection()
        symbol = cat.symbols[0]
        tf = "1h" if "1h" in cat.timeframes[symbol] else cat.timeframes[symbol][0]
        span = store.series_span(conn, store.find_series(conn, cat.exchange[symbol], symbol, tf))
        if span is not None:
            start, end = default_range(span[0], span[1])
    rows = history_rows(list_runs(db.session, current_user.id)) if current_user.is_authenticated else []
    db.session.commit()  # end the read transaction before the layout is serialised
    return html.Div([
        html.H3([html.I(className="bi bi-clock-history me-2"), "Backtests"]),
        dbc.Row([
            dbc.Col(_form(cat, start, end), lg=4),
            dbc.Col([
                html.Div(id=PROGRESS),
                html.Div(id=BATCH),
                dcc.Loading(html.Div(id=RESULT, children=html.P(
                    "Run a backtest, or open one from your history below.", className="text-muted")),
                    type="dot", delay_show=400),
            ], lg=8),
        ]),
        _history(rows),
        dcc.Store(id=ACTIVE), dcc.Store(id=VIEW),
        dcc.Interval(id=POLL, interval=700, disabled=True),
    ])
