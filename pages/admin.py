"""Admin: users and the job system. Non-admins get 403 content; every callback re-checks the role."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from app.auth.roles import current_is_admin

dash.register_page(__name__, path="/admin", name="Admin", title="Admin · Candlewise")

USERS, USERS_MSG, PING_BTN, PING_OUT, PING_POLL, PING_JOB, MODE, FEEDS, FEEDS_POLL = (
    "admin-users", "admin-users-msg", "admin-ping-button", "admin-ping-output", "admin-ping-poll",
    "admin-ping-job", "admin-mode", "admin-feeds", "admin-feeds-poll",
)


def forbidden():
    return dbc.Alert([html.H4("403 — administrators only", className="alert-heading"),
                      html.P("Your account does not have the admin role.")],
                     color="danger", id="admin-forbidden")


def layout(**_query):
    if not current_is_admin():
        return forbidden()
    return html.Div([
        html.H3([html.I(className="bi bi-shield-lock me-2"), "Administration"]),
        html.Div(id=MODE, className="text-muted mb-3"),
        dbc.Card([
            dbc.CardHeader("Users"),
            dbc.CardBody([html.Div(id=USERS), html.Div(id=USERS_MSG, className="mt-2")]),
        ], className="mb-3"),
        dbc.Card([
            dbc.CardHeader("Market data feeds"),
            dbc.CardBody([html.Div(id=FEEDS), dcc.Interval(id=FEEDS_POLL, interval=10_000)]),
        ], className="mb-3"),
        dbc.Card([
            dbc.CardHeader("Job queue"),
            dbc.CardBody([
                html.P("Send a probe job through the queue and watch a worker pick it up.",
                       className="text-muted"),
                dbc.Button("Ping a worker", id=PING_BTN, color="info", size="sm"),
                html.Div(id=PING_OUT, className="mt-2"),
                dcc.Store(id=PING_JOB),
                dcc.Interval(id=PING_POLL, interval=500, disabled=True),
            ]),
        ]),
    ])
