"""Admin page, markets section: list the watch-list; add a market (checked with the exchange, then a
backfill whose ``job.meta`` progress is polled); remove one after a confirmation that says whether its
history is kept or deleted. Each callback calls ``require_admin()`` first; the work is in
``workers.watchlist`` and ``app.market.watchlist``."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, html, no_update
from flask import current_app

from app.auth.actor import current_actor
from app.auth.roles import require_admin
from app.extensions import db
from app.market import watchlist
from callbacks import inputs
from pages._admin_markets import (MK_ADD, MK_CONFIRM, MK_EXCHANGE, MK_HISTORY, MK_JOB, MK_MSG, MK_PENDING, MK_POLL,
                                  MK_PROGRESS, MK_REMOVE, MK_SYMBOL, MK_TABLE, MK_TFS)
from workers import watchlist as jobs
from workers.queues import fetch_job


def _alert(text, color):
    return dbc.Alert(text, color=color, id="admin-markets-alert", className="small py-2")


def markets_table(settings):
    rows = watchlist.listing(db.session, settings)
    db.session.rollback()
    if not rows:
        return html.P("The watch-list is empty: nothing is ingested on schedule.", className="text-muted small")
    body = [html.Tr([
        html.Td(r["exchange"]), html.Td(r["symbol"], className="admin-market-symbol"),
        html.Td(", ".join(r["timeframes"])), html.Td(r["added_by"]),
        html.Td(f"{r['added_at']:%Y-%m-%d %H:%M}" if r["added_at"] else "—"),
        html.Td(dbc.Button("Remove", size="sm", color="outline-danger",
                           id={"type": MK_REMOVE, "index": f"{r['exchange']}|{r['symbol']}"})),
    ]) for r in rows]
    head = html.Thead(html.Tr([html.Th(h) for h in ("exchange", "symbol", "timeframes", "added by",
                                                    "added (UTC)", "")]))
    return dbc.Table([head, html.Tbody(body)], size="sm", id="admin-markets-list")


@callback(Output(MK_TABLE, "children"), Input(MK_TABLE, "id"))
def show(shown):
    require_admin()
    inputs.ADMIN_MARKETS_SHOW(shown)
    return markets_table(current_app.config["CW_SETTINGS"])


@callback(Output(MK_TABLE, "children", allow_duplicate=True), Output(MK_MSG, "children"),
          Output(MK_JOB, "data"), Output(MK_POLL, "disabled"), Output(MK_PROGRESS, "children"),
          Input(MK_ADD, "n_clicks"), State(MK_EXCHANGE, "value"), State(MK_SYMBOL, "value"),
          State(MK_TFS, "value"), prevent_initial_call=True)
def add(n, exchange, symbol, timeframes):
    require_admin()
    n, exchange, symbol, timeframes = inputs.ADMIN_MARKET_ADD(n, exchange, symbol, timeframes)
    if not n:
        return (no_update,) * 5
    settings = current_app.config["CW_SETTINGS"]
    try:
        market = watchlist.parse_market(exchange, symbol, timeframes, settings.timeframes)
        job = jobs.add_market(settings, market, current_actor())
    except watchlist.WatchlistError as exc:
        return no_update, _alert(str(exc), "danger"), no_update, no_update, no_update
    return (markets_table(settings), _alert(f"{market.symbol} added on {market.exchange}; loading its history.",
                                            "success"),
            job.id, False, dbc.Progress(value=0, label="queued", striped=True, animated=True))


@callback(Output(MK_PROGRESS, "children", allow_duplicate=True), Output(MK_POLL, "disabled", allow_duplicate=True),
          Input(MK_POLL, "n_intervals"), State(MK_JOB, "data"), prevent_initial_call=True)
def poll(tick, job_id):
    require_admin()
    tick, job_id = inputs.ADMIN_MARKET_POLL(tick, job_id)
    job = fetch_job(job_id) if job_id else None
    if job is None:
        return _alert("The backfill job has expired or never existed.", "warning"), True
    if job.status == "finished":
        written = job.result.get("written", {}) if isinstance(job.result, dict) else {}
        text = ", ".join(f"{tf}: {n:,}" for tf, n in written.items())
        return html.Div(f"Backfill done ({text} bars). The market now shows on every page.",
                        id="admin-market-backfill-done", className="text-success small"), True
    if job.status in ("failed", "stopped", "canceled"):
        return _alert(f"Backfill {job.status}: {job.error or ''}", "danger"), True
    pct = float(job.meta.get("progress", 0) or 0)
    return dbc.Progress(value=pct, label=f"{pct:.0f}% {job.meta.get('phase', job.status)}"[:80], striped=True,
                        animated=True, id="admin-market-backfill-bar"), False


@callback(Output(MK_CONFIRM, "displayed"), Output(MK_CONFIRM, "message"), Output(MK_PENDING, "data"),
          Input({"type": MK_REMOVE, "index": ALL}, "n_clicks"), State(MK_HISTORY, "value"),
          prevent_initial_call=True)
def ask_remove(clicks, history):
    require_admin()
    clicks, history = inputs.ADMIN_MARKET_ASK_REMOVE(clicks, history)
    if ctx.triggered_id is None or not ctx.triggered or not ctx.triggered[0].get("value"):
        return False, no_update, no_update
    exchange, symbol = inputs.market_target(ctx.triggered_id, (MK_REMOVE,))
    if history == "delete":
        counts = jobs.history_to_delete(current_app.config["CW_SETTINGS"], exchange, symbol)
        fate = (f"DELETE its history: {watchlist.describe_history(counts)}. Kept: what users own about it "
                f"({', '.join(watchlist.KEPT_WITH_USERS)})")
    else:
        fate = "keep its stored candles, signals and predictions (they stay browsable)"
    return (True, f"Remove {symbol} ({exchange}) from the watch-list? Its ingestion stops; this will {fate}.",
            f"{exchange}|{symbol}")


@callback(Output(MK_TABLE, "children", allow_duplicate=True), Output(MK_MSG, "children", allow_duplicate=True),
          Input(MK_CONFIRM, "submit_n_clicks"), State(MK_PENDING, "data"), State(MK_HISTORY, "value"),
          prevent_initial_call=True)
def remove(n, market, history):
    require_admin()
    n, market, history = inputs.ADMIN_MARKET_REMOVE(n, market, history)
    if not n or market is None:
        return no_update, no_update
    settings = current_app.config["CW_SETTINGS"]
    exchange, symbol = market
    try:
        removal = jobs.remove_market(settings, exchange, symbol, current_actor(),
                                     delete_history=history == "delete")
    except watchlist.WatchlistError as exc:
        return no_update, _alert(str(exc), "danger")
    if removal.history == "deleted":
        text = f"{symbol} removed; deleted: " + watchlist.describe_history(
            {"series": removal.series_deleted, "bars": removal.bars_deleted, **(removal.derived_deleted or {})}) + "."
    else:
        text = f"{symbol} removed; its stored history is kept."
    return markets_table(settings), _alert(text, "success")
