"""Market page callbacks: thin shells over app.market.query (reads) and app.figures.market (the chart)."""
from __future__ import annotations

from datetime import datetime, timezone

import dash_bootstrap_components as dbc
from dash import Input, Output, callback, html, no_update

import app.hot as hot
from app.extensions import db
from app.figures.market import candlestick_figure
from app.market import query
from callbacks import inputs
from pages.market import BADGE, CHART, ERROR, INTERVAL, STATUS, SYMBOL, TICKER, TIMEFRAME
from pages._catalog import page_catalog


def _badge(cat: query.Catalog, symbol: str):
    if cat.is_demo(symbol):
        return dbc.Badge([html.I(className="bi bi-wifi-off me-1"), "offline demo data"], color="warning",
                         text_color="dark", className="fs-6", id="market-demo-badge",
                         title="Synthetic candles from Candlewise's seeded generator — not real prices.")
    if cat.origin(symbol) == "import":
        return dbc.Badge([html.I(className="bi bi-file-earmark-arrow-up me-1"), cat.label(symbol)], color="info",
                         text_color="dark", className="fs-6", id="market-import-badge",
                         title="Candles imported from a file (flask candles import) — no exchange keeps them current.")
    return dbc.Badge([html.I(className="bi bi-broadcast me-1"), cat.label(symbol)], color="success",
                     className="fs-6", id="market-live-badge")


def _ticker_chip(t, origin: str):
    up = t.change_24h_pct >= 0
    return html.Div([
        html.Strong(t.symbol, className="me-2"),
        html.Span(f"{t.price:,.2f}", className="me-2"),
        html.Span(f"{t.change_24h_pct:+.2f}%", className="text-success" if up else "text-danger"),
        html.Small(f" vol {t.volume_24h:,.0f}", className="text-muted ms-2"),
        html.Small(f" {origin}", className="text-warning ms-1") if origin != "live" else None,
    ], className="border rounded px-2 py-1", id={"type": "market-ticker-chip", "index": t.symbol})


@callback(Output(TICKER, "children"), Input(INTERVAL, "n_intervals"))
def update_tickers(_n):
    cat = page_catalog()
    ticks = query.tickers(db.session, cat, hot.live_cache())
    db.session.commit()  # end the read transaction before rendering
    return [_ticker_chip(t, cat.origin(t.symbol)) for t in ticks]


@callback(
    Output(CHART, "figure"), Output(BADGE, "children"), Output(STATUS, "children"),
    Output(ERROR, "children"), Output(ERROR, "is_open"),
    Input(SYMBOL, "value"), Input(TIMEFRAME, "value"), Input(INTERVAL, "n_intervals"),
)
def update_chart(symbol, timeframe, _n):
    symbol, timeframe, _n = inputs.MARKET_CHART(symbol, timeframe, _n)
    cat = page_catalog()
    try:
        sym, tf = query.resolve(cat, symbol, timeframe)
        df, origin = query.recent_candles(db.session, cat, sym, tf, cache=hot.live_cache())
    except query.UnknownSeries as exc:
        return no_update, no_update, "", str(exc), True
    finally:
        db.session.commit()  # end the read transaction before the figure is built and encoded
    demo = cat.is_demo(sym)
    fig = candlestick_figure(df, title=f"{sym} · {tf}", demo=demo)
    last = df.index[-1] if len(df) else None
    now = datetime.now(timezone.utc).strftime("%H:%M:%S UTC")
    status = (f"{len(df)} bars from the {origin} · last bar opened {last:%Y-%m-%d %H:%M} UTC · refreshed {now}"
              if last is not None else f"no bars · refreshed {now}")
    return fig, _badge(cat, sym), status, no_update, no_update
