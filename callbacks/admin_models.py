"""Admin page, LSTM models: train (a job on the ml queue), promote, roll back; the live A/B per version
(scored predictions, the champion / challenger test, the flag) and the reliability curves.
Each callback calls ``require_admin()`` first."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update
from flask import current_app
from flask_login import current_user

import app.hot as hot
from app.audit.log import record
from app.auth.actor import current_actor
from app.auth.roles import require_admin
from app.extensions import db
from app.figures.models import reliability_figure
from app.hot.action_limits import ActionLimited, action_limits
from app.market import watchlist
from app.mlops import live, service
from callbacks import inputs
from ml.edge import EDGE
from ml.registry import slug
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
    rows = service.model_rows(service.registry(settings), watchlist.symbols(db.session, settings), settings.timeframes)
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


def _live_versions_table(report: dict, key: str):
    head = html.Thead(html.Tr([html.Th(h) for h in (
        "version", "role", "stored", "withheld (OOD)", "scored", "live accuracy", "live log loss",
        "live base-rate log loss", "live ECE")]))
    body = []
    for v, info in report["versions"].items():
        m = info["metrics"] or {}
        body.append(html.Tr([
            html.Td(f"v{v}"), html.Td(info["role"]), html.Td(info["stored"]), html.Td(info["withheld"]),
            html.Td(m.get("n", 0)), html.Td(_pct(m.get("accuracy"))), html.Td(_num(m.get("log_loss"))),
            html.Td(_num(m.get("base_rate_log_loss"))), html.Td(_num(m.get("ece"))),
        ], id=f"admin-live-{key}-v{v}"))
    return dbc.Table([head, html.Tbody(body)], size="sm", className="mb-1")


def _verdict(review: dict):
    if review["flagged"]:
        return dbc.Alert(["Champion flagged: ", "; ".join(review["reasons"]),
                          ". Promotion stays an admin decision (Promote / Roll back above)."],
                         color="warning", className="py-1 small mb-1")
    if not review["judged"]:
        return html.P("Not judged yet: " + "; ".join(review["reasons"]) + ".", className="text-muted small mb-1")
    return html.P(f"Champion not flagged over the last {review['n']} scored bars: its live log loss is not behind "
                  "the live base rate or the challenger.", className="text-muted small mb-1")


def _versus(report: dict):
    vs = report["review"]["versus"]
    if not vs:
        return html.P("No challenger: only the champion predicts.", className="text-muted small mb-1")
    dm = vs["dm"]
    stat = "n/a" if dm["statistic"] is None else f"{dm['statistic']:+.2f}"
    p = "n/a" if dm["p_value"] is None else f"{dm['p_value']:.3f}"
    return html.P(f"v{report['champion']} vs v{report['challenger']} on the same {vs['n']} scored bars: log loss "
                  f"{_num(vs['champion_log_loss'])} vs {_num(vs['challenger_log_loss'])}; {report['test']}: "
                  f"statistic {stat}, p = {p} (negative: the champion has the lower loss).",
                  className="small mb-1")


def _curves(models, report: dict) -> dict:
    curves = {}
    champion = models.get(report["symbol"], report["timeframe"], report["champion"])
    cal = (champion.walk_forward or {}).get("calibration") or {}
    if cal:
        curves[f"v{champion.version} walk-forward raw"] = (cal.get("before") or {}).get("curve") or []
        curves[f"v{champion.version} walk-forward calibrated"] = (cal.get("after") or {}).get("curve") or []
    for v, info in report["versions"].items():
        curves[f"v{v} live ({info['role']})"] = (info["metrics"] or {}).get("curve") or []
    return curves


def live_section():
    """Per series with a champion: the live record of the champion and the challenger, the test, the flag."""
    settings = current_app.config["CW_SETTINGS"]
    models = service.registry(settings)
    exchanges = page_catalog().exchange
    blocks = []
    for symbol in watchlist.symbols(db.session, settings):
        for timeframe in settings.timeframes:
            report = live.live_report(db.session, models, symbol, timeframe, settings.ml_live_window,
                                      exchanges.get(symbol))
            if report is None:
                continue
            key = f"{slug(symbol)}-{timeframe}"
            blocks.append(html.Div([
                html.H6(f"{symbol} {timeframe}: live A/B, last {report['window']} scored bars (ML_LIVE_WINDOW)",
                        className="mt-3"),
                _verdict(report["review"]), _versus(report), _live_versions_table(report, key),
                dcc.Graph(id=f"admin-reliability-{key}", config={"displaylogo": False, "displayModeBar": False},
                          figure=reliability_figure(_curves(models, report),
                                                    f"{symbol} {timeframe}: reliability (walk-forward and live)")),
            ], id=f"admin-live-{key}", className="admin-live-block"))
    db.session.commit()  # end the read transaction
    if not blocks:
        return html.Div()
    note = html.P("Each stored prediction is scored when its next bar closes. The challenger (the newest version "
                  "that is not the champion) predicts in shadow on the same bars; its p(up) is never shown as the "
                  "signal. The live base rate predicts the share of up bars among the earlier scored bars.",
                  className="text-muted small mb-0")
    return html.Div([note, *blocks], id="admin-models-live")


def models_section():
    return html.Div([models_table(), live_section()])


@callback(Output(MODELS, "children"), Input(MODELS, "id"))
def show_models(_):
    require_admin()
    return models_section()


@callback(Output(TRAIN_JOB, "data"), Output(TRAIN_POLL, "disabled"), Output(TRAIN_OUT, "children"),
          Input(TRAIN_BTN, "n_clicks"), State(TRAIN_SYMBOL, "value"), State(TRAIN_TF, "value"),
          State(TRAIN_EPOCHS, "value"), prevent_initial_call=True)
def start_training(_n, symbol, timeframe, epochs):
    require_admin()
    _n, symbol, timeframe, epochs = inputs.ADMIN_TRAIN(_n, symbol, timeframe, epochs)
    settings = current_app.config["CW_SETTINGS"]
    watched = watchlist.symbols(db.session, settings)
    db.session.commit()  # end the read transaction
    if symbol not in watched or timeframe not in settings.timeframes:
        return no_update, True, dbc.Alert("Symbol and timeframe: choose them from the lists (the symbol from the "
                                          "watch-list).", color="danger")
    if not isinstance(epochs, int) or not 1 <= epochs <= 200:
        return no_update, True, dbc.Alert("Max epochs must be a whole number from 1 to 200.", color="danger")
    exchange = page_catalog().exchange.get(symbol)
    if exchange is None:
        return no_update, True, dbc.Alert(f"No stored candles for {symbol}.", color="danger")
    try:
        action_limits(settings).hit("training", current_user.id)
    except ActionLimited as exc:  # LIMIT_MODEL_TRAINING per admin
        return no_update, True, dbc.Alert(str(exc), color="warning", id="admin-train-limited")
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
        live_before = r.get("live") or {}
        if live_before.get("flagged"):
            text += f" The champion v{live_before['champion']} was flagged live: {'; '.join(live_before['reasons'])}."
        return (dbc.Alert(text, color="success" if r["promoted"] else "secondary", id="admin-train-result"),
                True, models_section())
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
    return models_section(), dbc.Alert(message, color="success", duration=6000, id="admin-models-alert")
