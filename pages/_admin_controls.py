"""Admin page, controls section: emergency stop and resume, each behind a confirmation (ids here)."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

(STOP_REASON, STOP_BTN, RESUME_BTN, CONFIRM_STOP, CONFIRM_RESUME, CONTROLS_STATUS, CONTROLS_MSG) = (
    "admin-stop-reason", "admin-stop-button", "admin-resume-button", "admin-confirm-stop", "admin-confirm-resume",
    "admin-controls-status", "admin-controls-msg")


def controls_card():
    return dbc.Card([
        dbc.CardHeader("Emergency stop"),
        dbc.CardBody([
            html.P("Stop suspends every RQ worker (the job running now finishes; no other starts), pauses the "
                   "schedule and shows a banner to every signed-in user. Resume reverses all of it.",
                   className="text-muted small"),
            dbc.Row([
                dbc.Col(dbc.Input(id=STOP_REASON, placeholder="reason (shown in the banner)", maxLength=500,
                                  size="sm"), md=5),
                dbc.Col(dbc.Button([html.I(className="bi bi-sign-stop me-1"), "Emergency stop"], id=STOP_BTN,
                                   color="danger", size="sm"), md="auto"),
                dbc.Col(dbc.Button([html.I(className="bi bi-play-circle me-1"), "Resume"], id=RESUME_BTN,
                                   color="success", size="sm"), md="auto"),
            ], className="g-2 mb-2"),
            dcc.ConfirmDialog(id=CONFIRM_STOP, message="Stop every worker and the schedule now?"),
            dcc.ConfirmDialog(id=CONFIRM_RESUME, message="Resume the workers and the schedule?"),
            html.Div(id=CONTROLS_STATUS),
            html.Div(id=CONTROLS_MSG, className="mt-2"),
        ]),
    ], className="mb-3")
