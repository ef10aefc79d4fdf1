"""Admin page, emergency stop and resume: a click asks for confirmation; the confirmation acts
(``workers.control``), writes the audit row and updates the shell's banner at once.
Each callback calls ``require_admin()`` first."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, html, no_update
from flask import current_app
from flask_login import current_user

import app.hot as hot
from app.audit.log import record
from app.auth.actor import current_actor
from app.auth.roles import require_admin
from app.extensions import db
from callbacks import inputs
from pages._admin_controls import (CONFIRM_RESUME, CONFIRM_STOP, CONTROLS_MSG, CONTROLS_STATUS, RESUME_BTN,
                                   STOP_BTN, STOP_REASON)
from pages._shell import STOP_BANNER, stop_banner
from workers import control


def status(settings):
    stop = hot.system_state(settings).stopped()
    if stop is None:
        return dbc.Badge("running", color="success", id="admin-system-state")
    suspended = "workers suspended" if control.workers_suspended(settings) else "no RQ workers (embedded)"
    return html.Span([dbc.Badge("stopped", color="danger", id="admin-system-state"),
                      f" by {stop['by']} at {stop['at']} — {suspended}"])


@callback(Output(CONTROLS_STATUS, "children"), Input(CONTROLS_STATUS, "id"))
def show_status(_):
    require_admin()
    return status(current_app.config["CW_SETTINGS"])


@callback(Output(CONFIRM_STOP, "displayed"), Input(STOP_BTN, "n_clicks"), prevent_initial_call=True)
def ask_stop(n):
    require_admin()
    n = inputs.ADMIN_ASK_STOP(n)
    return bool(n)


@callback(Output(CONFIRM_RESUME, "displayed"), Input(RESUME_BTN, "n_clicks"), prevent_initial_call=True)
def ask_resume(n):
    require_admin()
    n = inputs.ADMIN_ASK_RESUME(n)
    return bool(n)


@callback(Output(CONTROLS_STATUS, "children", allow_duplicate=True), Output(CONTROLS_MSG, "children"),
          Output(STOP_BANNER, "children", allow_duplicate=True),
          Input(CONFIRM_STOP, "submit_n_clicks"), State(STOP_REASON, "value"), prevent_initial_call=True)
def stop(n, reason):
    require_admin()
    n, reason = inputs.ADMIN_STOP(n, reason)
    if not n:
        return no_update, no_update, no_update
    settings = current_app.config["CW_SETTINGS"]
    before = hot.system_state(settings).stopped()
    try:
        doc = control.emergency_stop(settings, current_user.email, reason or "")
    except ValueError as exc:
        return no_update, dbc.Alert(str(exc), color="danger", id="admin-controls-alert"), no_update
    record(db.session, "system.stop", current_actor(), target="system", before={"stop": before}, after={"stop": doc})
    db.session.commit()
    return (status(settings), dbc.Alert("Stopped: workers suspended, schedule paused.", color="warning",
                                        id="admin-controls-alert"), stop_banner(doc))


@callback(Output(CONTROLS_STATUS, "children", allow_duplicate=True),
          Output(CONTROLS_MSG, "children", allow_duplicate=True),
          Output(STOP_BANNER, "children", allow_duplicate=True),
          Input(CONFIRM_RESUME, "submit_n_clicks"), prevent_initial_call=True)
def resume(n):
    require_admin()
    n = inputs.ADMIN_RESUME(n)
    if not n:
        return no_update, no_update, no_update
    settings = current_app.config["CW_SETTINGS"]
    before = hot.system_state(settings).stopped()
    was = control.resume(settings)
    record(db.session, "system.resume", current_actor(), target="system", before={"stop": before},
           after={"stop": None})
    db.session.commit()
    text = "Resumed: workers and schedule running again." if was else "Nothing was stopped; workers resumed anyway."
    return status(settings), dbc.Alert(text, color="success", id="admin-controls-alert"), None
