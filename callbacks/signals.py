"""Signals page callbacks: thin shells over app.analysis.reads (what jobs stored) and app.figures.signals.

Interval ticks compare cheap versions with what this tab shows (kept in its ``dcc.Store``s): the
snapshots' versions for the heat-map, table, breakdown and score history, the last bar's signature
for the events chart, the rendered rows for the LSTM card. Unchanged: an empty 204. Only the forming
or new bars moved: a ``Patch`` of the chart. Otherwise the shared figures come from hot state
(``app.hot.views``), built once per version for every user. Read transactions end before building.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, html, no_update
from dash.exceptions import PreventUpdate
from flask import current_app

import app.hot as hot
from app.analysis import reads
from app.extensions import db
from app.figures import signals as views
from app.figures.market import bar_signature, shown, tail_update
from app.market import query
from pages._catalog import page_catalog
from callbacks import inputs, tick_gate
from callbacks.live_chart import candle_patch, tail_bars
from pages.signals import (BREAKDOWN, CHART, DETAIL_SEEN, HEATMAP, HISTORY, INTERVAL, LSTM, LSTM_SEEN, OVERVIEW_SEEN,
                           QUALITY, QUALITY_META, STATUS, SUMMARY, SYMBOL, TABLE, TIMEFRAME)

WINDOW = 300  # bars the events chart shows

LABEL_COLORS = {"strong buy": "success", "buy": "success", "neutral": "secondary", "sell": "danger",
                "strong sell": "danger"}


OVERVIEW_TABLES = ("signals", "series")  # what each view reads, for the tick gate (callbacks.tick_gate)
DETAIL_TABLES = ("signals", "candles", "series")
# the champion's predictions; a promotion changes the registry's files, seen at the next full check
LSTM_TABLES = ("predictions",)


def _snapshots(cat: query.Catalog, symbols=None) -> dict:
    wanted = {s: cat.exchange[s] for s in (symbols or cat.symbols) if s in cat.exchange}
    return reads.snapshots(db.session, hot.signal_cache(), wanted)


def snapshot_version(snapshot: dict | None) -> str:
    """Changes whenever the analysis job stores a new snapshot for the symbol."""
    if not snapshot:
        return "none"
    return f"{snapshot.get('computed_at')}|{snapshot.get('bar_time')}|{snapshot['fused']['score']!r}"


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def _shared_figure(view: str, key: str, version: str, build):
    """The figure of this view and version from hot state, else ``build()`` (once per version, one
    request building while the others wait for it) stored there."""
    return hot.view_cache().single_flight(view, key, version, lambda: build().to_json())


@callback(Output(HEATMAP, "figure"), Output(TABLE, "data"), Output(STATUS, "children"), Output(OVERVIEW_SEEN, "data"),
          Input(INTERVAL, "n_intervals"), State(OVERVIEW_SEEN, "data"))
def update_overview(_n, seen):
    now_stamp = tick_gate.stamp(tick_gate.counters(OVERVIEW_TABLES), 60)  # ages are shown in minutes
    if ctx.triggered_id == INTERVAL and tick_gate.unchanged(seen, now_stamp):
        raise PreventUpdate  # no snapshot was stored since the last check: nothing read
    db.session.commit()  # end the session check's read transaction before this request's work
    cat = page_catalog()
    snaps = _snapshots(cat)
    db.session.commit()  # end the read transaction before rendering
    now = datetime.now(timezone.utc)
    rows = views.overview_rows(snaps, now)
    for row in rows:
        row["id"] = row["symbol"]
    snap_version = _digest("|".join(f"{s}:{snapshot_version(v)}" for s, v in snaps.items()))
    rows_version = _digest(json.dumps(rows, sort_keys=True, default=str))
    seen = seen if isinstance(seen, dict) else {}
    state = tick_gate.checked({"snaps": snap_version, "rows": rows_version}, now_stamp)
    if seen.get("snaps") == snap_version and seen.get("rows") == rows_version:
        if now_stamp is None or tick_gate.unchanged(seen, now_stamp):
            raise PreventUpdate  # nothing new: an empty 204
        return no_update, no_update, no_update, state  # the same overview: only the stamp of this check
    heatmap = no_update if seen.get("snaps") == snap_version else \
        _shared_figure("signals-heatmap", "all", snap_version, lambda: views.heatmap_figure(snaps))
    scored = sum(1 for s in snaps.values() if s)
    status = f"{scored}/{len(snaps)} symbols scored · updated {now:%H:%M:%S} UTC"
    return heatmap, rows, status, state


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


def _history(exchange: str, symbol: str, version: str) -> dict:
    def build():
        scores = reads.score_history(db.session, exchange, symbol)
        db.session.commit()  # end the read transaction before the figure is built and encoded
        return views.history_figure(scores, symbol)

    return _shared_figure("signals-history", f"{exchange}|{symbol}", version, build)


def _events_chart(cat: query.Catalog, sym: str, tf: str, snapshot: dict | None, version: str) -> dict:
    def build():
        candles, _source = query.recent_candles(db.session, cat, sym, tf, limit=WINDOW, cache=hot.live_cache())
        db.session.commit()  # end the read transaction before the figure is built and encoded
        events = ((snapshot or {}).get("timeframes", {}).get(tf) or {}).get("events", [])
        fig = views.events_figure(candles, events, f"{sym} · {tf} · events", cat.is_demo(sym))
        fig.update_layout(meta={"shown": shown(candles)})
        return fig

    return _shared_figure("signals-chart", f"{cat.exchange[sym]}|{sym}|{tf}", version, build)


@callback(Output(SUMMARY, "children"), Output(BREAKDOWN, "children"), Output(CHART, "figure"),
          Output(HISTORY, "figure"), Output(DETAIL_SEEN, "data"),
          Input(SYMBOL, "value"), Input(TIMEFRAME, "value"), Input(INTERVAL, "n_intervals"), State(DETAIL_SEEN, "data"))
def update_detail(symbol, timeframe, _n, seen):
    symbol, timeframe, _n = inputs.SIGNALS_DETAIL(symbol, timeframe, _n)
    counters = tick_gate.counters(DETAIL_TABLES)  # read before the data, so a later write shows next tick
    if ctx.triggered_id == INTERVAL and tick_gate.unchanged(seen, tick_gate.stamp(counters, tick_gate.period(seen))):
        raise PreventUpdate  # no bar or snapshot was stored since the last check: nothing read
    db.session.commit()  # end the session check's read transaction before this request's work
    cat = page_catalog()
    if not symbol or symbol not in cat.exchange:
        return "", html.P("No symbol selected.", className="text-muted"), no_update, no_update, None
    snapshot = _snapshots(cat, [symbol]).get(symbol)
    exchange = cat.exchange[symbol]
    try:
        sym, tf = query.resolve(cat, symbol, timeframe)
        view = f"{exchange}|{symbol}|{tf}"
        seen = seen if isinstance(seen, dict) and seen.get("view") == view else {}
        tail = tail_bars(cat, sym, tf, seen)
    except query.UnknownSeries:
        tail, tf, view, seen = None, timeframe, f"{exchange}|{symbol}|{timeframe}", {}
    db.session.commit()  # end the read transaction before the figures are built and encoded
    snap_v = snapshot_version(snapshot)
    sig = bar_signature(tail) if tail is not None else "none"
    now_stamp = tick_gate.stamp(counters, tick_gate.period({"view": view}))
    if seen.get("snap") == snap_v and seen.get("sig") == sig:
        if now_stamp is None or tick_gate.unchanged(seen, now_stamp):
            raise PreventUpdate  # nothing new: an empty 204
        return no_update, no_update, no_update, no_update, tick_gate.checked(seen, now_stamp)
    same_snapshot = seen.get("snap") == snap_v
    history = no_update if same_snapshot else _history(exchange, symbol, snap_v)
    # the chart draws the bars and this timeframe's events: a new snapshot with the same events (most
    # minutes: the new bar made no event) needs only the bars' Patch, not the whole chart again
    events_v = _digest(json.dumps(((snapshot or {}).get("timeframes", {}).get(tf) or {}).get("events", []),
                                  sort_keys=True, default=str))
    now_shown: dict = {}
    if tail is None:
        chart = no_update
    elif seen.get("events") == events_v and seen.get("sig") == sig:
        chart, now_shown = no_update, {k: seen[k] for k in ("n", "last", "sig") if k in seen}
    elif seen.get("events") == events_v and (update := tail_update(seen, tail, WINDOW)) is not None:
        chart, now_shown = candle_patch(update), update["shown"]  # only the moved and new bars
    else:
        chart = _events_chart(cat, sym, tf, snapshot, f"{events_v}|{sig}")
        now_shown = chart["layout"]["meta"]["shown"]
    state = tick_gate.checked({"view": view, "snap": snap_v, "events": events_v, **now_shown}, now_stamp)
    if same_snapshot:
        return no_update, no_update, chart, history, state
    if not snapshot:
        msg = html.P("No signal yet: the analysis job has not run for this symbol.", className="text-muted")
        return "", msg, chart, history, state
    fused = snapshot["fused"]
    summary = html.Span([html.Span(f"fused {fused['score']:.1f} ", className="fs-5"),
                         dbc.Badge(fused["label"], color=LABEL_COLORS.get(fused["label"], "secondary")),
                         html.Span(f" confidence {fused['confidence']:.2f} · agreement {fused['agreement']:.2f}",
                                   className="text-muted small")])
    return summary, _breakdown(snapshot), chart, history, state


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


@callback(Output(LSTM, "children"), Output(LSTM_SEEN, "data"), Input(SYMBOL, "value"), Input(INTERVAL, "n_intervals"),
          State(LSTM_SEEN, "data"))
def show_lstm(symbol, _n, seen):
    from app.mlops.predict import latest_predictions
    from app.mlops.service import registry

    symbol = inputs.SIGNALS_SYMBOL(symbol)
    if not symbol:
        raise PreventUpdate
    now_stamp = tick_gate.stamp(tick_gate.counters(LSTM_TABLES), 60)
    if ctx.triggered_id == INTERVAL and isinstance(seen, dict) and seen.get("symbol") == symbol \
            and tick_gate.unchanged(seen, now_stamp):
        raise PreventUpdate  # no prediction was stored since the last check: nothing read
    db.session.commit()  # end the session check's read transaction before this request's work
    settings = current_app.config["CW_SETTINGS"]
    rows = latest_predictions(db.session, registry(settings), symbol, settings.timeframes)
    db.session.commit()
    version = _digest(symbol + json.dumps(rows, sort_keys=True, default=str))
    state = tick_gate.checked({"v": version, "symbol": symbol}, now_stamp)
    if isinstance(seen, dict) and version == seen.get("v"):
        if now_stamp is None or tick_gate.unchanged(seen, now_stamp):
            raise PreventUpdate  # the same predictions as shown: an empty 204
        return no_update, state  # only the stamp of this check
    return _lstm_card(symbol, rows), state


def _p_up_cell(r: dict):
    """p(up) with the spread across the fold models, or why it is withheld (out of distribution)."""
    if r.get("withheld"):
        return html.Td([html.Span("withheld", className="text-warning"),
                        html.Div(r["withheld"], className="small text-muted")], className="signals-lstm-withheld")
    if r["p_up"] is None:
        return html.Td("—")
    spread = "" if r.get("spread") is None else f" ± {r['spread']:.3f}"
    return html.Td(f"{r['p_up']:.3f}{spread}")


def _lstm_card(symbol: str, rows: list[dict]):
    if not rows:
        return html.P(f"No champion LSTM model for {symbol} yet (an admin trains one on the Admin page).",
                      className="text-muted mb-0", id="signals-lstm-none")
    body = [html.Tr([
        html.Td(r["timeframe"]), html.Td(f"v{r['version']}"),
        _p_up_cell(r),
        html.Td("—" if r["bar_time"] is None else f"{r['bar_time']:%Y-%m-%d %H:%M}"),
        html.Td(f"{_pct(r['oos_accuracy'])} on {r['oos_n'] or 0} bars"),
        html.Td(_pct(r["base_rate_accuracy"])), html.Td(_pct(r["persistence_accuracy"])),
        html.Td(f"{_pct(r.get('live_accuracy'))} on {r.get('live_n') or 0} bars"),
        html.Td(dbc.Badge("beats baselines" if r["beats_baselines"] else "no edge over baselines",
                          color="success" if r["beats_baselines"] else "secondary")),
    ]) for r in rows]
    head = html.Thead(html.Tr([html.Th(h) for h in ("TF", "model", "p(up) ± spread", "bar (UTC)",
                                                    "out-of-sample accuracy", "base rate", "persistence",
                                                    "live accuracy", "")]))
    return dbc.Table([head, html.Tbody(body)], size="sm", id="signals-lstm-table", className="mb-0")
