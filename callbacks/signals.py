"""Signals page callbacks: thin shells over app.analysis.reads (what jobs stored) and app.figures.signals."""
from __future__ import annotations

from datetime import datetime, timezone

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, html, no_update
from flask import current_app

import app.hot as hot
from app.analysis import reads
from app.extensions import db
from app.figures import signals as views
from app.market import query
from pages._catalog import page_catalog
from callbacks import inputs
from pages.signals import (BREAKDOWN, CHART, HEATMAP, HISTORY, INTERVAL, LSTM, QUALITY, QUALITY_META, STATUS,
                           SUMMARY, SYMBOL, TABLE, TIMEFRAME)

LABEL_COLORS = {"strong buy": "success", "buy": "success", "neutral": "secondary", "sell": "danger",
                "strong sell": "danger"}


def _snapshots(cat: query.Catalog, symbols=None) -> dict:
    wanted = {s: cat.exchange[s] for s in (symbols or cat.symbols) if s in cat.exchange}
    return reads.snapshots(db.session, hot.signal_cache(), wanted)


@callback(Output(HEATMAP, "figure"), Output(TABLE, "data"), Output(STATUS, "children"),
          Input(INTERVAL, "n_intervals"))
def update_overview(_n):
    cat = page_catalog()
    snaps = _snapshots(cat)
    db.session.commit()  # end the read transaction before rendering
    now = datetime.now(timezone.utc)
    rows = views.overview_rows(snaps, now)
    for row in rows:
        row["id"] = row["symbol"]
    scored = sum(1 for s in snaps.values() if s)
    status = f"{scored}/{len(snaps)} symbols scored · refreshed {now:%H:%M:%S} UTC"
    return views.heatmap_figure(snaps), rows, status


@callback(Output(SYMBOL, "value"), Input(HEATMAP, "clickData"), Input(TABLE, "active_cell"),
          State(SYMBOL, "options"), prevent_initial_call=True)
def select_symbol(click, cell, options):
    clicked, row_id, options = inputs.SIGNALS_PICK(click, cell, options)
    if ctx.triggered_id == HEATMAP and clicked:
        symbol = clicked
    elif ctx.triggered_id == TABLE and row_id:
        symbol = row_id
    else:
        return no_update
    return symbol if symbol in (options or []) else no_update


def _breakdown(snapshot: dict):
    cards = []
    for tf in views.breakdown(snapshot):
        items = [html.Li([html.Span(text), dbc.Badge(f"{pts:+.1f}", color="success" if pts > 0 else "danger",
                                                     className="ms-2")]) for text, pts in tf["reasons"]]
        cards.append(html.Div([
            html.Div([html.Strong(tf["timeframe"]), f" · {tf['score']:.1f} ",
                      dbc.Badge(tf["label"], color=LABEL_COLORS.get(tf["label"], "secondary")),
                      html.Span(f" confidence {tf['confidence']:.2f} · weight {tf['weight']:g} · "
                                f"share {100 * tf['share']:.0f}%", className="text-muted small")]),
            html.Ul(items or [html.Li("no evidence either way", className="text-muted")], className="small mb-2"),
        ], className="signals-breakdown-tf", id={"type": "signals-tf", "index": tf["timeframe"]}))
    return cards


@callback(Output(SUMMARY, "children"), Output(BREAKDOWN, "children"), Output(CHART, "figure"),
          Output(HISTORY, "figure"),
          Input(SYMBOL, "value"), Input(TIMEFRAME, "value"), Input(INTERVAL, "n_intervals"))
def update_detail(symbol, timeframe, _n):
    symbol, timeframe, _n = inputs.SIGNALS_DETAIL(symbol, timeframe, _n)
    cat = page_catalog()
    if not symbol or symbol not in cat.exchange:
        return "", html.P("No symbol selected.", className="text-muted"), no_update, no_update
    snapshot = _snapshots(cat, [symbol]).get(symbol)
    exchange = cat.exchange[symbol]
    scores = reads.score_history(db.session, exchange, symbol)
    try:
        sym, tf = query.resolve(cat, symbol, timeframe)
        candles, _source = query.recent_candles(db.session, cat, sym, tf, limit=300, cache=hot.live_cache())
    except query.UnknownSeries:
        candles, tf = None, timeframe
    db.session.commit()  # end the read transaction before the figures are built and encoded
    history = views.history_figure(scores, symbol)
    events = ((snapshot or {}).get("timeframes", {}).get(tf) or {}).get("events", [])
    chart = views.events_figure(candles, events, f"{symbol} · {tf} · events", cat.is_demo(symbol)) \
        if candles is not None else no_update
    if not snapshot:
        msg = html.P("No signal yet: the analysis job has not run for this symbol.", className="text-muted")
        return "", msg, chart, history
    fused = snapshot["fused"]
    summary = html.Span([html.Span(f"fused {fused['score']:.1f} ", className="fs-5"),
                         dbc.Badge(fused["label"], color=LABEL_COLORS.get(fused["label"], "secondary")),
                         html.Span(f" confidence {fused['confidence']:.2f} · agreement {fused['agreement']:.2f}",
                                   className="text-muted small")])
    return summary, _breakdown(snapshot), chart, history


@callback(Output(QUALITY, "data"), Output(QUALITY_META, "children"), Input(SYMBOL, "value"))
def update_quality(symbol):
    symbol = inputs.SIGNALS_SYMBOL(symbol)
    cat = page_catalog()
    if not symbol or symbol not in cat.exchange:
        return [], ""
    report, meta = reads.quality_report(db.session, cat.exchange[symbol], symbol)
    db.session.commit()
    if not meta:
        return [], "Not computed yet: the analysis job computes it on its first run and then every 30 minutes."
    rows = views.quality_rows(report)
    computed = max(m["computed_at"] for m in meta.values())
    spans = ", ".join(f"{tf}: {m['bars']} bars" for tf, m in meta.items())
    note = "" if rows else " Not enough history yet (the first 200 bars of each timeframe are warm-up)."
    return rows, f"Computed {computed:%Y-%m-%d %H:%M} UTC over {spans}.{note}"


def _pct(value) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


@callback(Output(LSTM, "children"), Input(SYMBOL, "value"), Input(INTERVAL, "n_intervals"))
def show_lstm(symbol, _n):
    from app.mlops.predict import latest_predictions
    from app.mlops.service import registry

    symbol = inputs.SIGNALS_SYMBOL(symbol)
    if not symbol:
        return no_update
    settings = current_app.config["CW_SETTINGS"]
    rows = latest_predictions(db.session, registry(settings), symbol, settings.timeframes)
    db.session.commit()
    if not rows:
        return html.P(f"No champion LSTM model for {symbol} yet (an admin trains one on the Admin page).",
                      className="text-muted mb-0", id="signals-lstm-none")
    body = [html.Tr([
        html.Td(r["timeframe"]), html.Td(f"v{r['version']}"),
        html.Td("—" if r["p_up"] is None else f"{r['p_up']:.3f}"),
        html.Td("—" if r["bar_time"] is None else f"{r['bar_time']:%Y-%m-%d %H:%M}"),
        html.Td(f"{_pct(r['oos_accuracy'])} on {r['oos_n'] or 0} bars"),
        html.Td(_pct(r["base_rate_accuracy"])), html.Td(_pct(r["persistence_accuracy"])),
        html.Td(dbc.Badge("beats baselines" if r["beats_baselines"] else "no edge over baselines",
                          color="success" if r["beats_baselines"] else "secondary")),
    ]) for r in rows]
    head = html.Thead(html.Tr([html.Th(h) for h in ("TF", "model", "p(up)", "bar (UTC)", "out-of-sample accuracy",
                                                    "base rate", "persistence", "")]))
    return dbc.Table([head, html.Tbody(body)], size="sm", id="signals-lstm-table", className="mb-0")
