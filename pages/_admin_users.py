"""Admin page, users section: search, create, and the delete confirmation (component ids here)."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from app.models.user import ROLES

(SEARCH, ROLE_FILTER, NEW_EMAIL, NEW_ROLE, CREATE_BTN, CONFIRM_DELETE, PENDING_DELETE) = (
    "admin-users-search", "admin-users-role-filter", "admin-user-new-email", "admin-user-new-role",
    "admin-user-create", "admin-user-confirm-delete", "admin-user-pending-delete")
# per-row controls (pattern-matching ids, index = user id)
# Separate, idempotent actions: a replayed "deactivate" request never re-activates.
ACTIVATE, DEACTIVATE = "admin-user-activate", "admin-user-deactivate"
SET_ROLE, ROLE_CHOICE, RESET, DELETE = ("admin-user-set-role", "admin-user-role-choice", "admin-user-reset",
                                        "admin-user-delete")


def users_tools():
    return html.Div([
        dbc.Row([
            dbc.Col(dbc.Input(id=SEARCH, placeholder="search e-mail…", debounce=True, maxLength=254, size="sm"), md=4),
            dbc.Col(dcc.Dropdown(id=ROLE_FILTER, options=list(ROLES), placeholder="any role"), md=2),
        ], className="g-2 mb-2"),
        dbc.Row([
            dbc.Col(dbc.Input(id=NEW_EMAIL, placeholder="new user's e-mail", type="email", maxLength=254,
                              size="sm"), md=4),
            dbc.Col(dcc.Dropdown(id=NEW_ROLE, options=list(ROLES), value="trader", clearable=False), md=2),
            dbc.Col(dbc.Button("Create user", id=CREATE_BTN, color="info", size="sm"), md=2),
        ], className="g-2 mb-2"),
        dcc.ConfirmDialog(id=CONFIRM_DELETE),
        dcc.Store(id=PENDING_DELETE),
    ])
