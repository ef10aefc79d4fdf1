"""Admin page, users: search, create, change role, reset password, delete (with confirmation).

Each callback calls ``require_admin()`` first and acts only on a real click (a table re-render
fires pattern-matching inputs with ``n_clicks`` of None). The domain (:mod:`app.auth.users`)
validates, enforces the last-admin rule and writes the audit row; these are thin shells.
A generated password is shown once in the answer and stored nowhere but as its hash.
"""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, html, no_update
from flask_login import current_user

from app.auth.roles import require_admin
from app.auth.users import UserError, create_with_password, delete_user, owned_counts, reset_password, set_role
from app.extensions import client_ip, db
from app.models.user import User
from callbacks import inputs
from pages._admin_users import (CONFIRM_DELETE, CREATE_BTN, DELETE, NEW_EMAIL, NEW_ROLE, PENDING_DELETE, RESET, ROLE_CHOICE,
                                ROLE_FILTER, SEARCH, SET_ROLE)
from callbacks.admin import users_table
from pages.admin import USERS, USERS_MSG


def _clicked(kind: str) -> int | None:
    """The user id of the ``kind`` button that was really clicked, or None (a re-render, no click).
    An id that is not one of the page's answers with the field's message (``inputs.user_target``)."""
    if ctx.triggered_id is None or not ctx.triggered or not ctx.triggered[0].get("value"):
        return None
    return inputs.user_target(ctx.triggered_id, (kind,))


def owned_summary(n: dict[str, int]) -> str:
    """What goes with a user (``app.auth.users.owned_counts``), as the confirmation and the answer say it."""
    return (f"{n['backtests']} backtest(s) with {n['backtest_trades']} trade(s), "
            f"{n['alert_rules']} alert rule(s) with {n['alert_events']} event(s), {n['alert_deliveries']} "
            f"delivery(ies) and {n['alert_attempts']} delivery attempt(s), "
            f"{'their' if n['notification_settings'] else 'no'} notification settings, "
            f"{n['portfolio_transactions']} portfolio transaction(s), {n['paper_strategies']} paper strategy(ies) "
            f"with {n['paper_fills']} fill(s), {n['paper_orders']} paper order(s) and {n['sessions']} session(s)")


def _failed(exc: Exception):
    db.session.rollback()
    return no_update, dbc.Alert(str(exc), color="danger", id="admin-users-alert")


def _done(text, filters, **extra):
    return users_table(*filters), dbc.Alert(text, color="success", id="admin-users-alert", **extra)


@callback(Output(USERS, "children", allow_duplicate=True), Output(USERS_MSG, "children", allow_duplicate=True),
          Input(SEARCH, "value"), Input(ROLE_FILTER, "value"), prevent_initial_call=True)
def filter_users(text, role):
    require_admin()
    text, role = inputs.ADMIN_USERS_FILTER(text, role)
    try:
        return users_table(text, role), None
    except UserError as exc:
        return _failed(exc)


@callback(Output(USERS, "children", allow_duplicate=True), Output(USERS_MSG, "children", allow_duplicate=True),
          Input(CREATE_BTN, "n_clicks"), State(NEW_EMAIL, "value"), State(NEW_ROLE, "value"),
          State(SEARCH, "value"), State(ROLE_FILTER, "value"), prevent_initial_call=True)
def create(n, email, role, text, role_filter):
    require_admin()
    n, email, role, text, role_filter = inputs.ADMIN_USER_CREATE(n, email, role, text, role_filter)
    if not n:
        return no_update, no_update
    try:
        user, password = create_with_password(email or "", role, current_user, ip=client_ip())
    except UserError as exc:
        return _failed(exc)
    return _done([f"Created {user.role} {user.email}. Their password, shown only this once: ",
                  html.Code(password, id="admin-users-password"),
                  " — hand it over privately."], (text, role_filter))


@callback(Output(USERS, "children", allow_duplicate=True), Output(USERS_MSG, "children", allow_duplicate=True),
          Input({"type": SET_ROLE, "index": ALL}, "n_clicks"), State({"type": ROLE_CHOICE, "index": ALL}, "value"),
          State(SEARCH, "value"), State(ROLE_FILTER, "value"), prevent_initial_call=True)
def change_role(_clicks, roles, text, role_filter):
    require_admin()
    _clicks, roles, text, role_filter = inputs.ADMIN_SET_ROLE(_clicks, roles, text, role_filter)
    uid = _clicked(SET_ROLE)
    if uid is None:
        return no_update, no_update
    rows = [s["id"].get("index") for s in ctx.states_list[0]]  # the dropdowns' ids, in the order of ``roles``
    chosen = next((r for i, r in zip(rows, roles) if type(i) is int and i == uid), None)
    try:
        user = set_role(uid, chosen, current_user, ip=client_ip())
    except UserError as exc:
        return _failed(exc)
    return _done(f"{user.email} is now {user.role}; their sessions have ended.", (text, role_filter), duration=6000)


@callback(Output(USERS, "children", allow_duplicate=True), Output(USERS_MSG, "children", allow_duplicate=True),
          Input({"type": RESET, "index": ALL}, "n_clicks"), State(SEARCH, "value"), State(ROLE_FILTER, "value"),
          prevent_initial_call=True)
def reset(_clicks, text, role_filter):
    require_admin()
    _clicks, text, role_filter = inputs.ADMIN_RESET(_clicks, text, role_filter)
    uid = _clicked(RESET)
    if uid is None:
        return no_update, no_update
    try:
        user, password = reset_password(uid, current_user, ip=client_ip())
    except UserError as exc:
        return _failed(exc)
    return _done([f"New password for {user.email}, shown only this once: ",
                  html.Code(password, id="admin-users-password"), ". Every session of theirs has ended."],
                 (text, role_filter))


@callback(Output(CONFIRM_DELETE, "message"), Output(CONFIRM_DELETE, "displayed"), Output(PENDING_DELETE, "data"),
          Input({"type": DELETE, "index": ALL}, "n_clicks"), prevent_initial_call=True)
def ask_delete(_clicks):
    require_admin()
    _clicks = inputs.ADMIN_ASK_DELETE(_clicks)
    uid = _clicked(DELETE)
    user = db.session.get(User, uid) if uid is not None else None
    if user is None:
        return no_update, False, no_update
    n = owned_counts(user.id)
    db.session.rollback()
    return (f"Delete {user.email}? Deleted with them: {owned_summary(n)}. Audit rows about them are kept.",
            True, uid)


@callback(Output(USERS, "children", allow_duplicate=True), Output(USERS_MSG, "children", allow_duplicate=True),
          Input(CONFIRM_DELETE, "submit_n_clicks"), State(PENDING_DELETE, "data"),
          State(SEARCH, "value"), State(ROLE_FILTER, "value"), prevent_initial_call=True)
def confirm_delete(n, uid, text, role_filter):
    require_admin()
    n, uid, text, role_filter = inputs.ADMIN_CONFIRM_DELETE(n, uid, text, role_filter)
    if not n or uid is None:
        return no_update, no_update
    try:
        target = db.session.get(User, uid)
        email = target.email if target is not None else None
        counts = delete_user(uid, current_user, ip=client_ip())
    except UserError as exc:
        return _failed(exc)
    return _done(f"Deleted {email} with {owned_summary(counts)}.", (text, role_filter), duration=8000)
