"""Admin page, system panel: process, database, Redis, queues, workers (with their CPU and memory),
scheduled jobs, circuit breakers, failed jobs, cache clearing
(component ids here). Refreshed by interval; each refresh reads each source once."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from app.hot.cache_admin import CLEARABLE

SYS_FRESH = "admin-system-freshness"
SYS_CRON, SYS_BREAKERS = "admin-system-cron", "admin-system-breakers"
(SYS_POLL, SYS_STATS, SYS_QUEUES, SYS_WORKERS, SYS_FAILED, SYS_MSG, CACHE_AREA, CACHE_BTN, CONFIRM_CACHE) = (
    "admin-system-poll", "admin-system-stats", "admin-system-queues", "admin-system-workers",
    "admin-system-failed", "admin-system-msg", "admin-cache-area", "admin-cache-clear", "admin-confirm-cache")
REQUEUE, DROP = "admin-failed-requeue", "admin-failed-delete"  # pattern ids, index "queue|job id"
SYS_POLL_MS = 15_000


def system_card():
    return dbc.Card([
        dbc.CardHeader("System"),
        dbc.CardBody([
            dcc.Interval(id=SYS_POLL, interval=SYS_POLL_MS),
            html.Div(id=SYS_STATS, className="mb-2"),
            html.H6("Queues"), html.Div(id=SYS_QUEUES, className="mb-2"),
            html.H6("Workers"), html.Div(id=SYS_WORKERS, className="mb-2"),
            html.H6("Scheduled jobs"), html.Div(id=SYS_CRON, className="mb-2"),
            html.H6("Circuit breakers"), html.Div(id=SYS_BREAKERS, className="mb-2"),
            html.H6("Data freshness"), html.Div(id=SYS_FRESH, className="mb-2"),
            html.H6("Failed jobs"), html.Div(id=SYS_FAILED, className="mb-2"),
            html.Div(id=SYS_MSG, className="mb-2"),
            dbc.Row([
                dbc.Col(dcc.Dropdown(id=CACHE_AREA, options=list(CLEARABLE), placeholder="cache area"), md=3),
                dbc.Col(dbc.Button("Clear cache", id=CACHE_BTN, color="warning", size="sm"), md="auto"),
            ], className="g-2"),
            dcc.ConfirmDialog(id=CONFIRM_CACHE, message="Clear every key of this cache area?"),
        ]),
    ], className="mb-3")
