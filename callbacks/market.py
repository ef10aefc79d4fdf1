"""Market page callbacks: thin shells over app.market.query and app.market.charts."""
from __future__ import annotations

from datetime import datetime, timezone

import dash_bootstrap_components as dbc
from dash import Input, Output, callback, html, no_update

from flask import current_app

from app.market import query
from app.market.charts import candlestick_figure
from pages.market import BADGE, CHART, ERROR, INTERVAL, STATUS, SYMBOL, TICKER, TIMEFRAME
from workers.ingest import live_cache


def _badge(cat: query.Catalog, symbol: str):
    if cat.is_demo(symbol):
        return dbc.Badge([html.I(className="bi bi-wifi-off me-1"), "offline demo data"], color="warning",
                         text_color="dark", className="fs-6", id="market-demo-badge",
                         title="Synthetic candles from Candlewise's seeded generator — not real prices.")
    return dbc.Badge([html.I(className="bi bi-broadcast me-1"), f"live · {cat.exchange.get(symbol, '?')}"],
                     color="success", className="fs-6")


def _cache():
    return live_cache(current_app.config["CW_SETTINGS"])


def _ticker_chip(t, demo: bool):
    up = t.change_24h_pct >= 0
    return html.Div([
        html.Strong(t.symbol, className="me-2"),
        html.Span(f"{t.price:,.2f}", className="me-2"),
        html.Span(f"{t.change_24h_pct:+.2f}%", className="text-success" if up else "text-danger"),
        html.Small(f" vol {t.volume_24h:,.0f}", className="text-muted ms-2"),
        html.Small(" demo", className="text-warning ms-1") if demo else None,
    ], className="border rounded px-2 py-1", id={"type": "market-ticker-chip", "index": t.symbol})


@callback(Output(TICKER, "children"), Input(INTERVAL, "n_intervals"))
def update_tickers(_n):
    cat = query.catalog()
    return [_ticker_chip(t, cat.is_demo(t.symbol)) for t in query.tickers(cat, _cache())]


@callback(
    Output(CHART, "figure"), Output(BADGE, "children"), Output(STATUS, "children"),
    Output(ERROR, "children"), Output(ERROR, "is_open"),
    Input(SYMBOL, "value"), Input(TIMEFRAME, "value"), Input(INTERVAL, "n_intervals"),
)
def update_chart(symbol, timeframe, _n):
    cat = query.catalog()
    try:
        sym, tf = query.resolve(cat, symbol, timeframe)
        df, origin = query.recent_candles(cat, sym, tf, cache=_cache())
    except query.UnknownSeries as exc:
        return no_update, no_update, "", str(exc), True
    demo = cat.is_demo(sym)
    fig = candlestick_figure(df, title=f"{sym} · {tf}", demo=demo)
    last = df.index[-1] if len(df) else None
    now = datetime.now(timezone.utc).strftime("%H:%M:%S UTC")
    status = (f"{len(df)} bars from the {origin} · last bar opened {last:%Y-%m-%d %H:%M} UTC · refreshed {now}"
              if last is not None else f"no bars · refreshed {now}")
    return fig, _badge(cat, sym), status, no_update, no_update
