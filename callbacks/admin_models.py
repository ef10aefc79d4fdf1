"""Admin page, LSTM models: train (a job on the ml queue), promote, roll back.
Each callback calls ``require_admin()`` first."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, html, no_update
from flask import current_app

import app.hot as hot
from app.audit.log import record
from app.auth.actor import current_actor
from app.auth.roles import require_admin
from app.extensions import db
from app.mlops import service
from callbacks import inputs
from ml.edge import EDGE
from pages.admin import (MODELS, MODELS_MSG, TRAIN_BTN, TRAIN_EPOCHS, TRAIN_JOB, TRAIN_OUT, TRAIN_POLL, TRAIN_SYMBOL,
                         TRAIN_TF)
from workers.queues import enqueue, fetch_job
from pages._catalog import page_catalog

PROMOTE, ROLLBACK = "admin-model-promote", "admin-model-rollback"


def _pct(value):
    return "—" if value is None else f"{100 * value:.1f}%"


def _num(value):
    return "—" if value is None else f"{value:.4f}"


def models_table():
    settings = current_app.config["CW_SETTINGS"]
    rows = service.model_rows(service.registry(settings), settings.watchlist, settings.timeframes)
    if not rows:
        return html.P("No models yet. Train one above (or `flask ml train`).", className="text-muted",
                      id="admin-models-empty")
    body = []
    for r in rows:
        key = f"{r['symbol']}|{r['timeframe']}|{r['version']}"
        beats = r["edge"] == EDGE
        action = (dbc.Button("Roll back", size="sm", color="outline-warning",
                             id={"type": ROLLBACK, "index": f"{r['symbol']}|{r['timeframe']}"})
                  if r["champion"] else
                  dbc.Button("Promote", size="sm", color="outline-info", id={"type": PROMOTE, "index": key}))
        body.append(html.Tr([
            html.Td(r["symbol"]), html.Td(r["timeframe"]),
            html.Td([f"v{r['version']} ", dbc.Badge("champion", color="success") if r["champion"] else None]),
            html.Td(r["trained_until"]), html.Td(r["oos_n"] or "—"),
            html.Td(_pct(r["oos_accuracy"])), html.Td(_pct(r["base_rate_accuracy"])),
            html.Td(_pct(r["persistence_accuracy"])),
            html.Td([_num(r["oos_log_loss"]), " ",
                     dbc.Badge(r["edge"], color="success" if beats else "secondary")]),
            html.Td(_num(r["base_rate_log_loss"])),
            html.Td(action),
        ]))
    head = html.Thead(html.Tr([html.Th(h) for h in (
        "symbol", "tf", "version", "trained until (UTC)", "test bars", "accuracy", "base rate", "persistence",
        "log loss", "base-rate log loss", "")]))
    return dbc.Table([head, html.Tbody(body)], size="sm", hover=True, id="admin-models-table")


@callback(Output(MODELS, "children"), Input(MODELS, "id"))
def show_models(_):
    require_admin()
    return models_table()


@callback(Output(TRAIN_JOB, "data"), Output(TRAIN_POLL, "disabled"), Output(TRAIN_OUT, "children"),
          Input(TRAIN_BTN, "n_clicks"), State(TRAIN_SYMBOL, "value"), State(TRAIN_TF, "value"),
          State(TRAIN_EPOCHS, "value"), prevent_initial_call=True)
def start_training(_n, symbol, timeframe, epochs):
    require_admin()
    _n, symbol, timeframe, epochs = inputs.ADMIN_TRAIN(_n, symbol, timeframe, epochs)
    settings = current_app.config["CW_SETTINGS"]
    if symbol not in settings.watchlist or timeframe not in settings.timeframes:
        return no_update, True, dbc.Alert("Choose a symbol and a timeframe from the lists.", color="danger")
    if not isinstance(epochs, int) or not 1 <= epochs <= 200:
        return no_update, True, dbc.Alert("Max epochs must be a whole number from 1 to 200.", color="danger")
    exchange = page_catalog().exchange.get(symbol)
    if exchange is None:
        return no_update, True, dbc.Alert(f"No stored candles for {symbol}.", color="danger")
    job = enqueue("ml", "workers.ml.train", exchange, symbol, timeframe, {"epochs": epochs})
    return job.id, False, dbc.Progress(value=0, label="queued", striped=True, animated=True)


@callback(Output(TRAIN_OUT, "children", allow_duplicate=True), Output(TRAIN_POLL, "disabled", allow_duplicate=True),
          Output(MODELS, "children", allow_duplicate=True),
          Input(TRAIN_POLL, "n_intervals"), State(TRAIN_JOB, "data"), prevent_initial_call=True)
def poll_training(_n, job_id):
    require_admin()
    _n, job_id = inputs.ADMIN_TRAIN_POLL(_n, job_id)
    job = fetch_job(job_id) if job_id else None
    if job is None:
        return dbc.Alert("The training job has expired or never existed.", color="warning"), True, no_update
    if job.status == "finished":
        r = job.result
        lstm = r["summary"]["lstm"]
        text = (f"{r['symbol']} {r['timeframe']} v{r['version']}: "
                f"{'promoted to champion' if r['promoted'] else 'stored, not promoted'} — {r['reason']}. "
                f"Out of sample: accuracy {_pct(lstm['accuracy'])} on {lstm['n']} bars.")
        return (dbc.Alert(text, color="success" if r["promoted"] else "secondary", id="admin-train-result"),
                True, models_table())
    if job.status == "failed":
        return dbc.Alert(f"Training failed: {job.error}", color="danger", id="admin-train-result"), True, no_update
    return (dbc.Progress(value=job.meta.get("progress", 0), label=job.meta.get("phase", job.status),
                         striped=True, animated=True), False, no_update)


@callback(Output(MODELS, "children", allow_duplicate=True), Output(MODELS_MSG, "children"),
          Input({"type": PROMOTE, "index": ALL}, "n_clicks"), Input({"type": ROLLBACK, "index": ALL}, "n_clicks"),
          prevent_initial_call=True)
def change_champion(promote_clicks, rollback_clicks):
    require_admin()
    promote_clicks, rollback_clicks = inputs.ADMIN_CHAMPION(promote_clicks, rollback_clicks)
    if not ctx.triggered_id or not any(c for c in (*promote_clicks, *rollback_clicks) if c):
        return no_update, no_update
    reg = service.registry(current_app.config["CW_SETTINGS"])
    parts = inputs.model_target(ctx.triggered_id, (PROMOTE, ROLLBACK))
    try:
        before = reg.champion(parts[0], parts[1])
        if ctx.triggered_id["type"] == PROMOTE:
            chosen = reg.promote(parts[0], parts[1], int(parts[2]))
            action, message = "model.promote", f"{parts[0]} {parts[1]}: v{chosen.version} is now the champion."
        else:
            chosen = reg.rollback(parts[0], parts[1])
            action = "model.rollback"
            message = f"{parts[0]} {parts[1]}: rolled back, v{chosen.version} is the champion again."
    except ValueError as exc:
        return no_update, dbc.Alert(str(exc), color="danger", id="admin-models-alert")
    record(db.session, action, current_actor(), target=f"{parts[0]} {parts[1]}",
           before={"champion": None if before is None else before.version}, after={"champion": chosen.version})
    db.session.commit()
    return models_table(), dbc.Alert(message, color="success", duration=6000, id="admin-models-alert")
