"""Admin page callbacks. Each one calls ``require_admin()`` first: hiding links is not security."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update
from flask import current_app
from flask_login import current_user

import app.hot as hot
from app.auth.roles import require_admin
from app.auth.users import UserError, activate_user, deactivate_user, search_users
from app.extensions import db
from app.models.user import ROLES
from app.extensions import client_ip
from app.hot import feeds as feed_health
from callbacks import inputs
from pages.admin import FEEDS, FEEDS_POLL, MODE, PING_BTN, PING_JOB, PING_OUT, PING_POLL, USERS, USERS_MSG
from pages._admin_users import ACTIVATE, DEACTIVATE, DELETE, RESET, ROLE_CHOICE, SET_ROLE
from workers.queues import enqueue, fetch_job, runner


def _when(value) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else "never"


def users_table(text: str | None = None, role: str | None = None):
    rows = []
    for r in search_users(text or None, role or None):
        u, me = r.user, r.user.id == current_user.id
        rows.append(html.Tr([
            html.Td(u.id), html.Td(u.email),
            html.Td(dbc.InputGroup([
                dcc.Dropdown(id={"type": ROLE_CHOICE, "index": u.id}, options=list(ROLES), value=u.role,
                             clearable=False, disabled=me, style={"minWidth": "7rem"}),
                dbc.Button("Set", id={"type": SET_ROLE, "index": u.id}, size="sm", color="outline-info",
                           disabled=me),
            ], size="sm")),
            html.Td([dbc.Badge("active" if u.active else "inactive", color="success" if u.active else "dark"),
                     # an admin's one-time password not yet replaced by the user's own (app.auth.forced)
                     dbc.Badge("password change due", color="warning", className="ms-1",
                               id={"type": "admin-user-must-change", "index": u.id})
                     if u.must_change_password else None]),
            html.Td(_when(u.created_at)), html.Td(_when(u.last_login_at)), html.Td(_when(r.last_activity_at)),
            html.Td([
                dbc.Button("Deactivate" if u.active else "Activate", size="sm",
                           color="outline-danger" if u.active else "outline-success",
                           id={"type": DEACTIVATE if u.active else ACTIVATE, "index": u.id}, disabled=me),
                dbc.Button("Reset password", size="sm", color="outline-warning", className="ms-1",
                           id={"type": RESET, "index": u.id}),
                dbc.Button("Delete", size="sm", color="outline-danger", className="ms-1",
                           id={"type": DELETE, "index": u.id}, disabled=me),
            ], className="text-nowrap"),
        ]))
    head = html.Thead(html.Tr([html.Th(h) for h in ("id", "e-mail", "role", "status", "created", "last login",
                                                    "last activity", "")]))
    db.session.rollback()  # end the read transaction
    return dbc.Table([head, html.Tbody(rows)], hover=True, size="sm", id="admin-users-table")


@callback(Output(USERS, "children"), Output(MODE, "children"), Input(USERS, "id"))
def show_users(_):
    require_admin()
    settings = current_app.config["CW_SETTINGS"]
    mode = ("Embedded mode: SQLite and in-process jobs." if settings.embedded
            else "Production mode: PostgreSQL and RQ workers on Redis.")
    return users_table(), mode


@callback(Output(USERS, "children", allow_duplicate=True), Output(USERS_MSG, "children"),
          Input({"type": ACTIVATE, "index": ALL}, "n_clicks"), Input({"type": DEACTIVATE, "index": ALL}, "n_clicks"),
          prevent_initial_call=True)
def set_user_active(activate_clicks, deactivate_clicks):
    require_admin()
    activate_clicks, deactivate_clicks = inputs.ADMIN_TOGGLE(activate_clicks, deactivate_clicks)
    if not ctx.triggered_id or not any(activate_clicks + deactivate_clicks):
        return no_update, no_update
    action = activate_user if ctx.triggered_id["type"] == ACTIVATE else deactivate_user
    try:
        user, changed = action(inputs.user_target(ctx.triggered_id, (ACTIVATE, DEACTIVATE)), current_user, ip=client_ip())
    except (UserError, TypeError, ValueError) as exc:
        return no_update, dbc.Alert(str(exc), color="danger")
    state = "activated" if user.active else "deactivated"
    note = "" if changed else " (no change: it already was)"
    return users_table(), dbc.Alert(f"{user.email} {state}{note}.", color="success", duration=4000)


@callback(Output(PING_JOB, "data"), Output(PING_POLL, "disabled"), Output(PING_OUT, "children"),
          Input(PING_BTN, "n_clicks"), prevent_initial_call=True)
def start_ping(_n):
    require_admin()
    job = enqueue("ingest", "workers.system.ping", "admin", steps=2)
    return job.id, False, dbc.Progress(value=0, label="queued", striped=True, animated=True)


@callback(Output(PING_OUT, "children", allow_duplicate=True), Output(PING_POLL, "disabled", allow_duplicate=True),
          Input(PING_POLL, "n_intervals"), State(PING_JOB, "data"), prevent_initial_call=True)
def poll_ping(_n, job_id):
    require_admin()
    _n, job_id = inputs.ADMIN_PING_POLL(_n, job_id)
    job = fetch_job(job_id) if job_id else None
    if job is None:
        return dbc.Alert("The job has expired or never existed.", color="warning"), True
    if job.status == "finished":
        r = job.result
        return dbc.Alert(f"pong from pid {r['pid']} on {r['host']} ({runner().mode} runner)", color="success",
                         id="admin-ping-result"), True
    if job.status == "failed":
        return dbc.Alert(f"job failed: {job.error}", color="danger"), True
    pct = job.meta.get("progress", 0)
    return dbc.Progress(value=pct, label=job.meta.get("phase", job.status), striped=True, animated=True), False


BREAKER_COLORS = {"closed": "success", "half_open": "warning", "open": "danger"}


@callback(Output(FEEDS, "children"), Input(FEEDS_POLL, "n_intervals"))
def show_feeds(_n):
    require_admin()
    settings = current_app.config["CW_SETTINGS"]
    feeds = feed_health.read_all(hot.feed_store(settings), settings.redis_prefix)
    if not feeds:
        return html.P("No refresh has run yet.", className="text-muted")
    rows = [html.Tr([
        html.Td(f.exchange),
        html.Td(dbc.Badge(f.breaker_state, color=BREAKER_COLORS.get(f.breaker_state, "secondary"))),
        html.Td(f.failures),
        html.Td(f"{f.retry_in_s:.0f} s" if f.breaker_state == "open" else "—"),
        html.Td(f.last_ok or "never"),
        html.Td(f.last_error or "—", className="text-break small"),
    ]) for f in feeds]
    head = html.Thead(html.Tr([html.Th(h) for h in ("exchange", "circuit breaker", "consecutive failures",
                                                    "retry in", "last success", "last error")]))
    return dbc.Table([head, html.Tbody(rows)], size="sm", id="admin-feeds-table")
