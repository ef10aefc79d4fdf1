"""Market: the trader's chart — one, two or four charts (symbol and timeframe each) with overlays, panes
and marks; the layout is saved per user and shareable by URL (``?layout=…``, which overrides the saved one).
"""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask import current_app

from app.auth.roles import signed_in_user_id
from app.extensions import db
from app.market import query
from app.market.charts import layouts, marks, store
from app.marketdata import TIMEFRAMES
from app.validation import InvalidInput, record_id
from pages._catalog import page_catalog

dash.register_page(__name__, path="/", name="Market", title="Market · Candlewise")

SLOTS = range(layouts.MAX_CHARTS)


def cid(thing: str, slot: int) -> str:
    """Component id of one chart's ``thing``: ``market-<thing>`` for the first chart, ``market-<thing>-<n>``
    for the others (convention 8)."""
    return f"market-{thing}" if slot == 0 else f"market-{thing}-{slot}"


# Component ids (convention 8); the first chart keeps the ids the page always had
SYMBOL, TIMEFRAME, CHART, STATUS, CHART_SEEN = (cid("symbol", 0), cid("timeframe", 0), cid("chart", 0),
                                                cid("status", 0), cid("chart-seen", 0))
INTERVAL, BADGE, TICKER, ERROR = "market-interval", "market-source-badge", "market-ticker", "market-error"
TICKER_SEEN = "market-ticker-seen"  # what this tab's ticker row shows, so an unchanged tick sends nothing
COUNT, LINK, LOG, SAVED, SHARE, MARKS_SRC, LINKED = ("market-count", "market-link", "market-log",
                                                     "market-layout-msg", "market-share", "market-marks-src",
                                                     "market-linked")
# The data's age per chart (``cid("freshness", k)``): worked out in the browser on every interval tick
# (app/assets/freshness.js) from the chart's store and the feeds' state, which the server reads every
# FEED_POLL_MS (callbacks/market_feed.py); the rule is app.market.freshness.chart_freshness.
FEEDS, FEED_CLOCK, FEED_POLL = "market-feeds", "market-feed-clock", "market-feed-poll"
FEED_POLL_MS = 30_000
FRESH_CLASS = "market-freshness small d-block text-muted"
STALE_CLASS = "market-freshness market-stale small d-block text-warning fw-semibold"
OVERLAY_LABELS = {"sma": "SMA", "ema": "EMA", "bb": "Bollinger", "vwap": "VWAP"}
PANE_LABELS = {"volume": "Volume", "rsi": "RSI", "macd": "MACD", "atr": "ATR", "pup": "p(up)"}


def slot_class(slot: int, count: int) -> str:
    """The grid class of chart ``slot`` in a layout of ``count`` charts (hidden past the count)."""
    if slot >= count:
        return "d-none"
    return "col-12" if count == 1 else "col-12 col-xl-6"


def _initial(cat: query.Catalog, symbol, tf, layout_param) -> tuple[dict, list[str]]:
    """The layout this visit opens with: the link's (``?layout=``), else the user's saved one, else the
    defaults; ``?symbol=&tf=`` choose the first chart's series (a symbol alone: at the default timeframe).
    Returns it with any messages."""
    messages = []
    if layout_param:
        lay, msg = layouts.from_url(layout_param)
    else:
        try:
            lay, msg = layouts.parse_layout(store.load(db.session, signed_in_user_id()))
        except PermissionError:
            lay, msg = layouts.default_layout(), None
        db.session.commit()  # end the read transaction
    if msg:
        messages.append(msg)
    try:
        lay = layouts.with_series(lay, 0, symbol, tf)
        if symbol and not tf:  # a link to a symbol opens it at the default timeframe, not the saved one
            lay["charts"][0]["timeframe"] = None
    except layouts.LayoutError as exc:
        messages.append(str(exc))
    return lay, messages


def _resolve(cat: query.Catalog, chart: dict, slot: int) -> tuple[str | None, str, str | None]:
    try:
        sym, tf = query.resolve(cat, chart["symbol"] or (cat.symbols[slot % len(cat.symbols)] if cat.symbols
                                                          else None), chart["timeframe"])
        return sym, tf, None
    except query.UnknownSeries as exc:
        sym = cat.symbols[0] if cat.symbols else None
        tfs = cat.timeframes.get(sym, []) if sym else []
        return sym, ("1h" if "1h" in tfs or not tfs else tfs[0]), str(exc)


def _checks(kind: str, slot: int, options: dict, value: list):
    return dbc.Checklist(id=cid(kind, slot), options=[{"label": v, "value": k} for k, v in options.items()],
                         value=value, inline=True, switch=False, className="small me-2")


def _chart_card(cat: query.Catalog, slot: int, chart: dict, count: int, sym, tf):
    tf_options = [{"label": t, "value": t, "disabled": t not in cat.timeframes.get(sym, [])} for t in TIMEFRAMES]
    if slot == 0:
        tf_control = dbc.RadioItems(id=TIMEFRAME, options=tf_options, value=tf, inline=True, className="btn-group",
                                    inputClassName="btn-check", labelClassName="btn btn-outline-info btn-sm",
                                    labelCheckedClassName="active")
    else:
        tf_control = dcc.Dropdown(id=cid("timeframe", slot), options=tf_options, value=tf, clearable=False,
                                  className="text-dark", style={"minWidth": "90px"})
    period = dict(type="number", min=layouts.PERIOD_MIN, max=layouts.PERIOD_MAX, step=1, debounce=True, size="sm",
                  style={"width": "80px"})
    return html.Div([
        dbc.Row([
            dbc.Col(dcc.Dropdown(id=cid("symbol", slot), options=cat.symbols, value=sym, clearable=False,
                                 className="text-dark"), md=3),
            dbc.Col(tf_control, md=9 if slot else 6),
            dbc.Col(html.Div(id=BADGE, className="text-end"), md=3) if slot == 0 else None,
        ], className="g-2 align-items-center mb-1"),
        html.Div([
            html.Span("Overlays", className="text-muted small me-2"),
            _checks("overlays", slot, OVERLAY_LABELS, chart["overlays"]),
            html.Span("SMA", className="text-muted small me-1"),
            dbc.Input(id=cid("sma", slot), value=chart["sma"], **period),
            html.Span("EMA", className="text-muted small ms-2 me-1"),
            dbc.Input(id=cid("ema", slot), value=chart["ema"], **period),
            html.Span("Panes", className="text-muted small ms-3 me-2"),
            _checks("panes", slot, PANE_LABELS, chart["panes"]),
        ], className="d-flex flex-wrap align-items-center gap-1 mb-1"),
        dcc.Loading(dcc.Graph(id=cid("chart", slot), config={"displaylogo": False, "scrollZoom": True}),
                    type="dot", delay_show=400),
        html.Small(id=cid("status", slot), className="text-muted"),
        html.Div(id=cid("freshness", slot), className=FRESH_CLASS, role="status"),
        dcc.Store(id=cid("chart-seen", slot)), dcc.Store(id=cid("view", slot)),
    ], id=cid("slot", slot), className=slot_class(slot, count))


RUN_LABELS = {"backtest": "Backtest", "paper": "Paper strategy"}


def _trade_sources(backtest, paper) -> tuple[dict, list[str]]:
    """``?backtest=`` / ``?paper=`` checked on the server: ``({"backtest": id | None, "paper": id | None,
    "series": [the runs' series]}, messages)``. Another user's run (or a missing one) marks nothing and says
    so; a value that is not an id says which field."""
    out, series, messages = {"backtest": None, "paper": None}, [], []
    try:
        user_id = signed_in_user_id()
    except PermissionError:
        user_id = None
    for name, value in (("backtest", backtest), ("paper", paper)):
        if not value:
            continue
        try:
            run_id = record_id(int(value), name)
        except (InvalidInput, ValueError, OverflowError, TypeError):
            messages.append(f"{name} must be a record id (a whole number), got {value!r}"[:120])
            continue
        source = marks.trade_source(db.session, user_id, name, run_id)
        if source is None:
            messages.append(f"{RUN_LABELS[name]} #{run_id} is not one of yours (or no longer exists): "
                            "no trades are marked.")
            continue
        out[name] = run_id
        series.append(source)
    db.session.commit()  # end the read transaction
    return {**out, "series": series}, messages


def layout(symbol: str | None = None, tf: str | None = None, layout: str | None = None,
           backtest: str | None = None, paper: str | None = None, **_query):
    """``?backtest=ID`` / ``?paper=ID`` (links from the Backtests and Portfolio pages) mark that run's trades
    on the first chart (the user's own only)."""
    cat = page_catalog()
    trades, messages = _trade_sources(backtest, paper)
    for source in trades.pop("series"):  # a run's trades open on its own series unless the link names one
        if not symbol:
            symbol, tf = source["symbol"], tf or source["timeframe"]
    lay, more = _initial(cat, symbol, tf, layout)
    messages = more + messages
    resolved = [_resolve(cat, lay["charts"][k], k) for k in SLOTS]
    if resolved[0][2]:
        messages.append(resolved[0][2])
    refresh_ms = current_app.config["CW_SETTINGS"].refresh_ms
    error = " ".join(messages) or None
    return html.Div([
        dbc.Alert(error, color="warning", id=ERROR, is_open=bool(error), dismissable=True),
        html.Div(id=TICKER, className="d-flex flex-wrap gap-2 mb-3"),
        html.Div([
            html.Span("Charts", className="text-muted small me-2"),
            dbc.RadioItems(id=COUNT, options=[{"label": str(n), "value": n} for n in layouts.COUNTS],
                           value=lay["count"], inline=True, className="btn-group me-3", inputClassName="btn-check",
                           labelClassName="btn btn-outline-secondary btn-sm", labelCheckedClassName="active"),
            dbc.Switch(id=LOG, label="log price axis", value=lay["log"], className="me-3 small"),
            dbc.Switch(id=LINK, label="linked crosshair", value=lay["link"], className="me-3 small"),
            html.A("link to this layout", id=SHARE, href="", className="small me-3"),
            html.Small(id=SAVED, className="text-muted"),
        ], className="d-flex flex-wrap align-items-center mb-2"),
        html.Div([_chart_card(cat, k, lay["charts"][k], lay["count"], resolved[k][0], resolved[k][1])
                  for k in SLOTS], className="row g-3"),
        dcc.Interval(id=INTERVAL, interval=refresh_ms, n_intervals=0),
        dcc.Interval(id=FEED_POLL, interval=FEED_POLL_MS, n_intervals=0),
        dcc.Store(id=FEEDS), dcc.Store(id=FEED_CLOCK),
        dcc.Store(id=TICKER_SEEN), dcc.Store(id=MARKS_SRC, data=trades), dcc.Store(id=LINKED),
    ])
