"""Market page callbacks: thin shells over app.market.query (reads) and app.figures.market (the chart).

Every tick first compares a cheap version with what this tab shows (kept in its ``dcc.Store``): the
last bar's signature for the chart, the ticker values for the ticker row. Unchanged: nothing is sent.
A new or moved bar of the shown series: a ``Patch`` with just those bars. Otherwise the whole figure,
built once per version for every user and kept serialised in hot state (``app.hot.views``).
Read transactions end before anything is built or encoded.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, html, no_update
from dash.exceptions import PreventUpdate

import app.hot as hot
from app.extensions import db
from app.figures.market import bar_signature, candlestick_figure, shown, tail_update
from app.market import query
from callbacks import inputs
from callbacks.live_chart import candle_patch, tail_bars
from pages._catalog import page_catalog
from pages.market import (BADGE, CHART, CHART_SEEN, ERROR, INTERVAL, STATUS, TICKER, TICKER_SEEN, SYMBOL,
                          TIMEFRAME)

WINDOW = 300  # bars the chart shows
VIEW = "market-chart"


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


def ticker_version(ticks, cat: query.Catalog) -> str:
    return "|".join(f"{t.symbol}:{t.price!r}:{t.change_24h_pct!r}:{t.volume_24h!r}:{cat.origin(t.symbol)}"
                    for t in ticks)


@callback(Output(TICKER, "children"), Output(TICKER_SEEN, "data"), Input(INTERVAL, "n_intervals"),
          State(TICKER_SEEN, "data"))
def update_tickers(_n, seen):
    db.session.commit()  # end the session check's read transaction before this request's work
    cat = page_catalog()
    ticks = query.tickers(db.session, cat, hot.live_cache())
    db.session.commit()  # end the read transaction before rendering
    version = ticker_version(ticks, cat)
    if version == seen:
        raise PreventUpdate  # nothing new: an empty 204
    return [_ticker_chip(t, cat.origin(t.symbol)) for t in ticks], version


def full_chart(cat: query.Catalog, sym: str, tf: str, version: str) -> dict:
    """``{"figure", "shown", "origin"}`` of the whole chart: the stored one of this version, else built
    (once per version for every user) and stored."""
    views = hot.view_cache()
    key = f"{cat.exchange[sym]}|{sym}|{tf}"
    body = views.read(VIEW, key, version)
    if body is not None:
        return body
    df, origin = query.recent_candles(db.session, cat, sym, tf, limit=WINDOW, cache=hot.live_cache())
    db.session.commit()  # end the read transaction before the figure is built and encoded
    fig = candlestick_figure(df, title=f"{sym} · {tf}", demo=cat.is_demo(sym))
    now_shown = shown(df)
    body_json = '{"figure": %s, "shown": %s, "origin": %s}' % (fig.to_json(), json.dumps(now_shown),
                                                                json.dumps(origin))
    views.write(VIEW, key, now_shown["sig"], body_json)
    return json.loads(body_json)


def _origin(seen: dict) -> str:
    return seen.get("origin") if seen.get("origin") in ("cache", "database") else "database"


def _status(now_shown: dict, origin: str) -> str:
    now = datetime.now(timezone.utc).strftime("%H:%M:%S UTC")
    if not now_shown["n"]:
        return f"no bars · updated {now}"
    last = datetime.fromisoformat(now_shown["last"])
    return (f"{now_shown['n']} bars from the {origin} · last bar opened {last:%Y-%m-%d %H:%M} UTC · "
            f"updated {now}")


@callback(
    Output(CHART, "figure"), Output(BADGE, "children"), Output(STATUS, "children"),
    Output(ERROR, "children"), Output(ERROR, "is_open"), Output(CHART_SEEN, "data"),
    Input(SYMBOL, "value"), Input(TIMEFRAME, "value"), Input(INTERVAL, "n_intervals"), State(CHART_SEEN, "data"),
)
def update_chart(symbol, timeframe, _n, seen):
    symbol, timeframe, _n = inputs.MARKET_CHART(symbol, timeframe, _n)
    db.session.commit()  # end the session check's read transaction before this request's work
    cat = page_catalog()
    try:
        sym, tf = query.resolve(cat, symbol, timeframe)
        view = f"{cat.exchange[sym]}|{sym}|{tf}"
        seen = seen if isinstance(seen, dict) and seen.get("view") == view else None
        tail = tail_bars(cat, sym, tf, seen)
    except query.UnknownSeries as exc:
        return no_update, no_update, "", str(exc), True, no_update
    finally:
        db.session.commit()  # end the read transaction before the figure is built and encoded
    version = bar_signature(tail)
    if seen is not None and seen.get("sig") == version:
        raise PreventUpdate  # nothing new: an empty 204, nothing sent
    update = tail_update(seen, tail, WINDOW) if seen is not None else None
    if update is not None:
        fig, now_shown, origin = candle_patch(update), update["shown"], _origin(seen)
    else:
        body = full_chart(cat, sym, tf, version)
        fig, now_shown, origin = body["figure"], body["shown"], body["origin"]
    return (fig, _badge(cat, sym), _status(now_shown, origin), no_update, no_update,
            {"view": view, "origin": origin, **now_shown})
