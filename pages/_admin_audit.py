"""Admin page, audit log section: filters, the table and the CSV export link (component ids here)."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from app.audit.log import ACTIONS
from app.audit.query import areas

AUDIT_ACTION, AUDIT_TEXT, AUDIT_REFRESH, AUDIT_TABLE, AUDIT_EXPORT = (
    "admin-audit-action", "admin-audit-text", "admin-audit-refresh", "admin-audit-table", "admin-audit-export")


def action_options() -> list[dict]:
    return ([{"label": f"{a}.*", "value": a} for a in areas()] + [{"label": a, "value": a} for a in ACTIONS])


def audit_card():
    return dbc.Card([
        dbc.CardHeader("Audit log"),
        dbc.CardBody([
            html.P("Every admin action and security event, newest first. Rows are never changed or removed "
                   "by the application.", className="text-muted small"),
            dbc.Row([
                dbc.Col(dcc.Dropdown(id=AUDIT_ACTION, options=action_options(), placeholder="any action"), md=3),
                dbc.Col(dbc.Input(id=AUDIT_TEXT, placeholder="actor or target contains…", debounce=True,
                                  maxLength=254, size="sm"), md=4),
                dbc.Col(dbc.Button("Refresh", id=AUDIT_REFRESH, color="secondary", size="sm"), md=2),
                dbc.Col(html.A("Export CSV", id=AUDIT_EXPORT, href="/admin/audit.csv",
                               className="btn btn-outline-info btn-sm"), md=2),
            ], className="g-2 mb-2"),
            html.Div(id=AUDIT_TABLE),
        ]),
    ], className="mb-3")
