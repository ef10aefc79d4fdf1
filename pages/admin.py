"""Admin: users and the job system. Non-admins get 403 content; every callback re-checks the role."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from flask import current_app

from app.auth.roles import current_is_admin
from pages._admin_audit import audit_card
from pages._admin_controls import controls_card
from pages._admin_markets import markets_card
from pages._admin_system import system_card
from pages._admin_users import users_tools

dash.register_page(__name__, path="/admin", name="Admin", title="Admin · Candlewise")

USERS, USERS_MSG, PING_BTN, PING_OUT, PING_POLL, PING_JOB, MODE, FEEDS, FEEDS_POLL = (
    "admin-users", "admin-users-msg", "admin-ping-button", "admin-ping-output", "admin-ping-poll",
    "admin-ping-job", "admin-mode", "admin-feeds", "admin-feeds-poll",
)

(MODELS, MODELS_MSG, TRAIN_SYMBOL, TRAIN_TF, TRAIN_EPOCHS, TRAIN_BTN, TRAIN_OUT, TRAIN_POLL,
 TRAIN_JOB) = ("admin-models", "admin-models-msg", "admin-train-symbol", "admin-train-timeframe",
               "admin-train-epochs", "admin-train-button", "admin-train-output", "admin-train-poll",
               "admin-train-job")


def models_card():
    from app.extensions import db
    from app.market import watchlist

    settings = current_app.config["CW_SETTINGS"]
    symbols = watchlist.symbols(db.session, settings)  # the stored watch-list (the Markets section edits it)
    db.session.commit()  # end the read transaction
    return dbc.Card([
        dbc.CardHeader("LSTM models"),
        dbc.CardBody([
            html.P("Every version is evaluated walk-forward: accuracy and log loss are out of sample, next to "
                   "two naive baselines (the training share of up bars; the direction of the last bar). A new "
                   "version becomes the champion only if it beats both and the champion; you can override.",
                   className="text-muted small"),
            dbc.Row([
                dbc.Col(dcc.Dropdown(id=TRAIN_SYMBOL, options=symbols, value=symbols[0] if symbols else None,
                                     clearable=False, placeholder="the watch-list is empty"), md=3),
                dbc.Col(dcc.Dropdown(id=TRAIN_TF, options=list(settings.timeframes), value="1h",
                                     clearable=False), md=2),
                dbc.Col(dbc.InputGroup([dbc.InputGroupText("max epochs"),
                                        dbc.Input(id=TRAIN_EPOCHS, type="number", value=20, min=1, max=200)],
                                       size="sm"), md=3),
                dbc.Col(dbc.Button("Train a new version", id=TRAIN_BTN, color="info", size="sm"), md=3),
            ], className="g-2 mb-2"),
            html.Div(id=TRAIN_OUT, className="mb-2"),
            dcc.Store(id=TRAIN_JOB),
            dcc.Interval(id=TRAIN_POLL, interval=1000, disabled=True),
            html.Div(id=MODELS),
            html.Div(id=MODELS_MSG, className="mt-2"),
        ]),
    ], className="mb-3")


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
        controls_card(),
        dbc.Card([
            dbc.CardHeader("Users"),
            dbc.CardBody([users_tools(), html.Div(id=USERS_MSG, className="mb-2"), html.Div(id=USERS)]),
        ], className="mb-3"),
        dbc.Card([
            dbc.CardHeader("Market data feeds"),
            dbc.CardBody([html.Div(id=FEEDS), dcc.Interval(id=FEEDS_POLL, interval=10_000)]),
        ], className="mb-3"),
        markets_card(current_app.config["CW_SETTINGS"].timeframes),
        models_card(),
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
        ], className="mb-3"),
        system_card(),
        audit_card(),
    ])
