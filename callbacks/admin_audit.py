"""Admin page, audit log: one query per refresh; the export link carries the same filter.
Each callback calls ``require_admin()`` first."""
from __future__ import annotations

import json
from urllib.parse import urlencode

import dash_bootstrap_components as dbc
from dash import Input, Output, callback, html

from app.audit.query import AuditFilter, search
from app.auth.roles import require_admin
from app.extensions import db
from callbacks import inputs
from pages._admin_audit import AUDIT_ACTION, AUDIT_EXPORT, AUDIT_REFRESH, AUDIT_TABLE, AUDIT_TEXT


def _values(doc) -> str:
    return "" if doc is None else json.dumps(doc, sort_keys=True)


def audit_table(filt: AuditFilter):
    events = search(db.session, filt)
    db.session.rollback()  # end the read transaction before building the table
    if not events:
        return html.P("No audit events match.", className="text-muted", id="admin-audit-empty")
    rows = [html.Tr([html.Td(f"{e.at:%Y-%m-%d %H:%M:%S}"), html.Td(e.actor_email), html.Td(e.ip or "—"),
                     html.Td(dbc.Badge(e.action, color="secondary")), html.Td(e.target or "—"),
                     html.Td(_values(e.before), className="small text-break"),
                     html.Td(_values(e.after), className="small text-break")]) for e in events]
    head = html.Thead(html.Tr([html.Th(h) for h in ("at (UTC)", "who", "source IP", "action", "target",
                                                    "before", "after")]))
    return dbc.Table([head, html.Tbody(rows)], size="sm", hover=True, id="admin-audit-rows")


@callback(Output(AUDIT_TABLE, "children"), Output(AUDIT_EXPORT, "href"),
          Input(AUDIT_ACTION, "value"), Input(AUDIT_TEXT, "value"), Input(AUDIT_REFRESH, "n_clicks"))
def show_audit(action, text, _n):
    require_admin()
    action, text, _n = inputs.ADMIN_AUDIT(action, text, _n)
    try:
        filt = AuditFilter(action=action, text=(text or "").strip() or None)
    except ValueError as exc:
        return dbc.Alert(str(exc), color="danger"), "/admin/audit.csv"
    query = urlencode({k: v for k, v in (("action", filt.action), ("text", filt.text)) if v})
    return audit_table(filt), "/admin/audit.csv" + (f"?{query}" if query else "")
