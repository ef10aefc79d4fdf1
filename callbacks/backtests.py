"""Backtests page callbacks: thin shells over app.backtest.results, workers.backtests and app.figures.

Every read passes ``current_user.id``: a user only ever sees, polls, compares
or downloads their own runs. The poll Interval is enabled when a run is
submitted and disabled again when every run of it has finished; each tick
reads the rows (the job writes progress to the row and ``job.meta`` together),
never recomputes.
"""
from __future__ import annotations

import json

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, dash_table, dcc, html, no_update

from app.api.downloads import download_url
from app.auth.roles import require_writer
from app.auth.roles import signed_in_user_id as _user_id
from app.backtest import results
from app.backtest.metrics import monthly_returns
from app.backtest.requests import InvalidRequest, strategy_choices
from app.extensions import db
from app.figures import backtests as figures
from app.figures.backtests import history_rows
from callbacks import inputs
from pages._ui import DARK_TABLE
from pages.backtests import (ACTIVE, BATCH, CASH, COMPARE, END, FEE, FORM_MSG, FRACTION, HISTORY,
                             MODE, PARAM, PARAMS, PER_TRADE, POLL, PROGRESS, RESULT, SIZING, SLIP, START, STOP,
                             STRATEGY, STRATEGY_INFO, SUBMIT, SYMBOLS, TAKE, TEST, TIMEFRAME, TRAIN, VIEW, WF_BOX,
                             WF_METRIC)
from workers.backtests import submit as submit_runs
from workers.queues import fetch_job

CARDS = ("total_return", "annual_return", "sharpe", "max_drawdown", "win_rate", "n_trades", "profit_factor",
         "exposure")
DOWNLOADS = (("trades.csv", "Trades CSV", "bi-filetype-csv"), ("result.json", "Result JSON", "bi-filetype-json"),
             ("report.xlsx", "XLSX workbook", "bi-file-earmark-excel"),
             ("tearsheet.html", "HTML tear sheet", "bi-file-earmark-richtext"),
             ("report.pdf", "PDF report", "bi-file-earmark-pdf"))


@callback(Output(PARAMS, "children"), Output(STRATEGY_INFO, "children"), Input(STRATEGY, "value"))
def render_params(strategy):
    strategy = inputs.BT_STRATEGY(strategy)
    choice = next((s for s in strategy_choices() if s["name"] == strategy), None)
    if choice is None:
        return [], ""
    fields = []
    for p in choice["schema"]:
        pid = {"type": PARAM, "index": p["name"]}
        if p["type"] == "bool":
            control = dbc.Switch(id=pid, value=bool(p["default"]), label=p["name"])
        elif p.get("choices"):
            control = dbc.Select(id=pid, value=str(p["default"]), size="sm",
                                 options=[{"label": f"{p['name']}: {c}", "value": c} for c in p["choices"]])
        else:
            rng = f"{p['min']:g}..{p['max']:g}" if p["min"] is not None and p["max"] is not None else ""
            control = dbc.Input(id=pid, value=str(p["default"]), size="sm",
                                placeholder=rng)
        label = f"{p['name']} ({p['min']:g}–{p['max']:g})" if p["type"] != "bool" and p["min"] is not None else ""
        fields.append(dbc.Col([dbc.Label(label, className="small mb-0") if label else None, control,
                               dbc.FormText(p["description"]) if p["description"] else None],
                              md=6 if p["type"] != "bool" else 12, className="mb-2"))
    info = choice["description"] + (f" — {choice['reason']}" if choice["disabled"] else "")
    if strategy == "score_threshold":
        info += " The score series is computed at run time from the candles (no look-ahead)."
    return fields, info


@callback(Output(WF_BOX, "is_open"), Input(MODE, "value"))
def toggle_walk_forward(mode):
    return mode == "walk_forward"


@callback(
    Output(FORM_MSG, "children"), Output(ACTIVE, "data"), Output(POLL, "disabled"), Output(PROGRESS, "children"),
    Input(SUBMIT, "n_clicks"),
    State(SYMBOLS, "value"), State(TIMEFRAME, "value"), State(START, "value"), State(END, "value"),
    State(STRATEGY, "value"), State({"type": PARAM, "index": ALL}, "value"),
    State({"type": PARAM, "index": ALL}, "id"), State(FEE, "value"), State(SLIP, "value"), State(SIZING, "value"),
    State(FRACTION, "value"), State(CASH, "value"), State(PER_TRADE, "value"), State(STOP, "value"),
    State(TAKE, "value"), State(MODE, "value"), State(TRAIN, "value"), State(TEST, "value"),
    State(WF_METRIC, "value"), prevent_initial_call=True,
)
def submit(_n, symbols, timeframe, start, end, strategy, values, ids, fee, slip, sizing, fraction, cash, per_trade,
           stop, take, mode, train, test, metric):
    require_writer()  # viewers see backtests, they do not start them
    user_id = _user_id()
    form = {"symbols": symbols or [], "timeframe": timeframe, "start": start, "end": end, "strategy": strategy,
            "params": inputs.strategy_params(values, ids), "fee_bps": fee, "slippage_bps": slip,
            "sizing": sizing, "fraction_pct": fraction, "initial_cash": cash, "cash_per_trade": per_trade,
            "stop_loss_pct": stop, "take_profit_pct": take, "mode": mode, "train_bars": train, "test_bars": test,
            "wf_metric": metric}
    try:
        sub = submit_runs(db.session, user_id, form)
    except InvalidRequest as exc:
        db.session.rollback()
        msg = dbc.Alert([html.Strong("Not started: "), html.Ul([html.Li(e) for e in exc.errors], className="mb-0")],
                        color="danger", id="bt-form-errors")
        return msg, no_update, True, no_update
    what = f"{len(sub.ids)} runs (batch)" if sub.batch_id else f"run #{sub.ids[0]}"
    return (dbc.Alert(f"Queued {what}.", color="info", duration=4000),
            {"ids": sub.ids, "batch_id": sub.batch_id}, False,
            dbc.Progress(value=0, label="queued", striped=True, animated=True, id="bt-progress-bar"))


def _state_of(row) -> tuple[str, float, str, str | None]:
    """(status, percent, phase, error) from the row, which the job's one progress writer keeps current.

    A job that failed (or vanished) while its row still says queued/running —
    e.g. it could not even write its failure — counts as failed, so polling ends.
    """
    if row.status in ("queued", "running"):
        job = fetch_job(row.job_id) if row.job_id else None
        if job is not None and job.status in ("failed", "stopped", "canceled"):
            return "failed", float(row.progress or 0.0), "failed", job.error or f"job {job.status}"
    return row.status, float(row.progress or 0.0), row.phase or row.status, row.error


def _batch_grid(rows) -> dash_table.DataTable:
    data = [{"id": r.id, "symbol": r.symbol, "strategy": r.strategy, "status": r.status,
             "params": json.dumps(r.params), **{k: figures.fmt_metric(k, (r.metrics or {}).get(k))
                                                for k in results.HEADLINE}} for r in rows]
    cols = [{"name": c, "id": c} for c in ("id", "symbol", "strategy", "params", "status", *results.HEADLINE)]
    return dash_table.DataTable(id="bt-batch-table", columns=cols, data=data, sort_action="native", page_size=20,
                                **DARK_TABLE)


@callback(
    Output(PROGRESS, "children", allow_duplicate=True), Output(POLL, "disabled", allow_duplicate=True),
    Output(VIEW, "data"), Output(HISTORY, "data"), Output(BATCH, "children"),
    Input(POLL, "n_intervals"), State(ACTIVE, "data"), prevent_initial_call=True,
)
def poll(_n, active):
    user_id = _user_id()
    ids = inputs.followed_runs(active)
    rows = []
    for i in ids:
        try:
            rows.append(results.get_run(db.session, user_id, i))
        except results.RunNotFound:
            continue
    if not rows:
        return dbc.Alert("Nothing to follow: the run does not exist.", color="warning"), True, no_update, \
            no_update, no_update
    states = [_state_of(r) for r in rows]
    grid = _batch_grid(rows) if len(rows) > 1 else None
    done = [st for st in states if st[0] in ("finished", "failed")]
    if len(done) < len(rows):
        pct = sum(st[1] for st in states) / len(states)
        phase = states[0][2] if len(rows) == 1 else f"{len(done)}/{len(rows)} runs done"
        bar = dbc.Progress(value=max(pct, 5), label=f"{phase} {pct:.0f}%", striped=True, animated=True,
                           id="bt-progress-bar")
        return bar, False, no_update, no_update, grid
    failed = [(r, st) for r, st in zip(rows, states) if st[0] == "failed"]
    finished = [r for r, st in zip(rows, states) if st[0] == "finished"]
    if failed and not finished:
        msg = dbc.Alert(f"Backtest failed: {failed[0][1][3]}", color="danger", id="bt-failed")
        return msg, True, no_update, history_rows(results.list_runs(db.session, user_id)), grid
    note = f" ({len(failed)} failed)" if failed else ""
    msg = dbc.Alert(f"Finished{note}.", color="success", duration=5000, id="bt-finished")
    return msg, True, finished[0].id, history_rows(results.list_runs(db.session, user_id)), grid


@callback(Output(VIEW, "data", allow_duplicate=True), Input(HISTORY, "active_cell"), State(HISTORY, "data"),
          prevent_initial_call=True)
def open_from_history(cell, data):
    row_id, data = inputs.BT_HISTORY_CELL(cell, data)
    if row_id is None or not data:
        return no_update
    return row_id


def _cards(m: dict, b: dict):
    cards = []
    for k in CARDS:
        cards.append(dbc.Col(dbc.Card(dbc.CardBody([
            html.Small(figures.METRIC_LABELS[k], className="text-muted d-block"),
            html.H5(figures.fmt_metric(k, m.get(k)), className="mb-0", id={"type": "bt-metric", "index": k}),
            html.Small(f"B&H {figures.fmt_metric(k, b.get(k))}", className="text-muted"),
        ]), className="h-100"), md=3, className="mb-2"))
    return dbc.Row(cards, className="g-2", id="bt-metric-cards")


def _downloads(backtest_id: int):
    return html.Div([html.A([html.I(className=f"bi {icon} me-1"), label], href=download_url(backtest_id, name),
                            className="btn btn-outline-info btn-sm me-2 mb-1", id=f"bt-download-{name.split('.')[1]}",
                            download="") for name, label, icon in DOWNLOADS], id="bt-downloads", className="mb-2")


@callback(Output(RESULT, "children"), Input(VIEW, "data"), prevent_initial_call=True)
def show_result(backtest_id):
    backtest_id = inputs.BT_RESULT(backtest_id)
    if backtest_id is None:
        return no_update
    user_id = _user_id()
    try:
        view = results.run_view(db.session, user_id, int(backtest_id))
    except results.RunNotFound as exc:
        return dbc.Alert(str(exc), color="warning")
    row, res, bench = view.row, view.result, view.benchmark
    head = "walk-forward, out-of-sample" if row.kind == "walk_forward" else "single run"
    title = f"#{row.id} {row.strategy} on {row.symbol} · {row.timeframe} ({head})"
    span = (f"{res.n_bars} bars {res.start:%Y-%m-%d %H:%M} → {res.end:%Y-%m-%d %H:%M} UTC · data "
            f"{res.data_hash[:21]}… · params {json.dumps(row.params)}")
    trades = res.trades.copy()
    for col in ("entry_time", "exit_time"):
        trades[col] = trades[col].dt.strftime("%Y-%m-%d %H:%M")
    trades = trades.round(4)
    windows = (row.details or {}).get("windows")
    return html.Div([
        html.H5(title, id="bt-result-title"), html.Small(span, className="text-muted d-block mb-2"),
        html.Div(html.A([html.I(className="bi bi-graph-up me-1"), "Open on the Market chart with its trades"],
                        href=f"/?backtest={int(row.id)}", id="bt-chart-link", className="small"), className="mb-2"),
        _downloads(row.id),
        _cards(row.metrics or {}, row.benchmark_metrics or {}),
        dcc.Graph(id="bt-equity", figure=figures.equity_figure(res.equity, bench.equity), config={"displaylogo": False}),
        dcc.Graph(id="bt-drawdown", figure=figures.drawdown_figure(res.equity, bench.equity)),
        dcc.Graph(id="bt-trades-chart", figure=figures.trades_figure(
            view.candles, res.trades, f"Trades on {row.symbol} (last {len(view.candles)} bars)")),
        dcc.Graph(id="bt-monthly", figure=figures.monthly_figure(monthly_returns(res.equity, res.initial_cash))),
        html.H6("Walk-forward windows") if windows else None,
        dash_table.DataTable(id="bt-windows", data=windows, page_size=10, **DARK_TABLE) if windows else None,
        html.H6(f"Trades ({len(trades)})", className="mt-3"),
        dash_table.DataTable(id="bt-trades", data=trades.to_dict("records"),
                             columns=[{"name": c, "id": c} for c in trades.columns], page_size=15,
                             sort_action="native", **DARK_TABLE),
        html.H6("All metrics", className="mt-3"),
        dash_table.DataTable(id="bt-metrics-table", data=figures.metric_rows(row.metrics or {}, row.benchmark_metrics),
                             columns=[{"name": n, "id": i} for i, n in (("metric", "Metric"), ("strategy", "Strategy"),
                                                                         ("buy_and_hold", "Buy & hold"))],
                             **DARK_TABLE),
    ])


@callback(Output(COMPARE, "children"), Input(HISTORY, "selected_row_ids"), prevent_initial_call=True)
def compare(selected):
    selected = inputs.BT_COMPARE(selected)
    if not selected or len(selected) < 2:
        return html.Small("Tick two or more finished runs to compare them.", className="text-muted")
    user_id = _user_id()
    curves, table = {}, []
    for i in selected:
        try:
            row = results.get_run(db.session, user_id, int(i))
            res, _ = results.rebuild(db.session, row)
        except results.RunNotFound:
            continue
        label = f"#{row.id} {row.strategy} {row.symbol} {row.timeframe}"
        curves[label] = res.equity
        table.append({"run": label, **{k: figures.fmt_metric(k, (row.metrics or {}).get(k)) for k in results.HEADLINE}})
    if len(curves) < 2:
        return dbc.Alert("Pick at least two finished runs.", color="warning")
    cols = [{"name": c, "id": c} for c in ("run", *results.HEADLINE)]
    return html.Div([dcc.Graph(id="bt-compare-chart", figure=figures.compare_figure(curves)),
                     dash_table.DataTable(id="bt-compare-table", data=table, columns=cols, **DARK_TABLE)])
