"""The frame around every page: navbar, user menu, page container.

Not a page itself (Dash's page discovery skips modules starting with ``_``).
"""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask import current_app
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from pages._input_errors import message_bar
import app.hot as hot

STOP_BANNER, STOP_POLL = "shell-stop-banner", "shell-stop-poll"
STOP_POLL_MS = 5_000  # one Redis GET per signed-in page every 5 s
CONNECTION_ALERT = "shell-connection-alert"
DEGRADED_BANNER = "shell-degraded-banner"  # server side: this web process cannot reach Redis (app.hot.outage)


def connection_banner():
    """The "connection lost, retrying" banner, hidden until the browser cannot reach the server.

    ``app/assets/connection.js`` shows it when a Dash request fails with a network error (or a proxy's
    502/503/504), probes ``/healthz`` while it is shown and hides it at the server's first answer; no
    callback, so it works precisely when the server cannot answer one.
    """
    return html.Div(dbc.Alert([html.I(className="bi bi-wifi-off me-2"), html.Strong("Connection lost, retrying…"),
                               " The server cannot be reached; this page updates again by itself once it is back."],
                              color="warning", className="mb-0 rounded-0 py-2"),
                    id=CONNECTION_ALERT, className="d-none", **{"data-connection": "ok"})


def stop_effects(embedded: bool) -> str:
    """What a stop pauses, as the banner says it: the schedule (``workers.schedule``), alert delivery
    (``workers.alerts``: deliveries stay pending until the resume), paper strategies and paper orders
    (``workers.paper``) and, with RQ, every worker (``workers.control``); embedded mode has no RQ workers."""
    workers = ("" if embedded else
               " Workers start no new job (queued backtests and training wait; a running job finishes).")
    return ("Market data is not refreshed, alerts are not sent (they go out after the resume), paper strategies "
            f"and paper orders do not trade.{workers} Pages show the last stored data.")


def stop_banner(stop: dict | None):
    """The emergency-stop banner every signed-in user sees while a stop is in force (None otherwise)."""
    if stop is None:
        return None
    why = f": {stop['reason']}" if stop.get("reason") else ""
    embedded = current_app.config["CW_SETTINGS"].embedded
    return dbc.Alert([html.I(className="bi bi-exclamation-octagon-fill me-2"),
                      html.Strong("Emergency stop in force"),
                      f" since {stop['at']} (by {stop['by']}){why}. {stop_effects(embedded)}"],
                     color="danger", className="mb-3", id="shell-stop-alert")


def degraded_banner():
    """The degraded-mode banner while this web process sees Redis as down (None otherwise); call it after a
    hot-state read (the stop switch) so the breaker has just tried Redis."""
    if not hot.degraded():
        return None
    from app.hot.outage import DEGRADED_MESSAGE

    return dbc.Alert([html.I(className="bi bi-cloud-slash me-2"), html.Strong("Degraded mode. "), DEGRADED_MESSAGE],
                     color="warning", className="mb-3", id="shell-degraded-alert")


def _nav_links():
    links = [
        dbc.NavItem(dbc.NavLink([html.I(className="bi bi-bar-chart-line me-1"), "Market"], href="/", active="exact")),
        dbc.NavItem(dbc.NavLink([html.I(className="bi bi-activity me-1"), "Signals"], href="/signals",
                                active="exact", id="nav-signals")),
        dbc.NavItem(dbc.NavLink([html.I(className="bi bi-clock-history me-1"), "Backtests"], href="/backtests",
                                active="exact", id="nav-backtests")),
        dbc.NavItem(dbc.NavLink([html.I(className="bi bi-bell me-1"), "Alerts",
                                 dbc.Badge("", color="danger", pill=True, className="ms-1", id="nav-alerts-badge")],
                                href="/alerts", active="exact", id="nav-alerts")),
        dbc.NavItem(dbc.NavLink([html.I(className="bi bi-wallet2 me-1"), "Portfolio"], href="/portfolio",
                                active="exact", id="nav-portfolio")),
        # a plain Flask page (app/api/token_page.py), so a full page load rather than Dash's router
        dbc.NavItem(dbc.NavLink([html.I(className="bi bi-key me-1"), "API tokens"], href="/account/tokens",
                                external_link=True, id="nav-tokens")),
        # the signed-in user's own password (app/auth/password_page.py), a plain Flask page too
        dbc.NavItem(dbc.NavLink([html.I(className="bi bi-lock me-1"), "Password"], href="/account/password",
                                external_link=True, id="nav-password")),
    ]
    if current_user.is_authenticated and current_user.is_admin:
        links.append(dbc.NavItem(dbc.NavLink([html.I(className="bi bi-shield-lock me-1"), "Admin"],
                                             href="/admin", active="exact", id="nav-admin")))
    return links


def layout():
    email = current_user.email if current_user.is_authenticated else ""
    role = current_user.role if current_user.is_authenticated else ""
    navbar = dbc.Navbar(
        dbc.Container([
            dbc.NavbarBrand([html.I(className="bi bi-graph-up-arrow me-2"), "Candlewise"], href="/"),
            dbc.Nav(_nav_links(), navbar=True, className="me-auto"),
            html.Span([html.I(className="bi bi-person-circle me-1"), email,
                       dbc.Badge(role, color="secondary", className="ms-2")],
                      className="text-light me-3", id="shell-user"),
            html.Form([  # sign-out is a POST with the CSRF token (app.auth.routes)
                dcc.Input(type="hidden", name="csrf_token", value=generate_csrf(), id="shell-csrf"),
                html.Button([html.I(className="bi bi-box-arrow-right me-1"), "Sign out"], type="submit",
                            className="btn btn-outline-light btn-sm", id="shell-logout"),
            ], action="/logout", method="post", className="m-0", id="shell-logout-form"),
        ], fluid=True),
        color="dark", dark=True, className="mb-3",
    )
    alerts_bell = [dcc.Interval(id="shell-alert-tick", interval=5000), dcc.Store(id="shell-alert-seen"),
                   html.Div(id="shell-alert-toast")]  # the unread badge and toast (callbacks/alerts.py)
    banner = html.Div(stop_banner(hot.system_state().stopped()), id=STOP_BANNER)
    degraded = html.Div(degraded_banner(), id=DEGRADED_BANNER)
    return html.Div([navbar, connection_banner(), message_bar(), *alerts_bell,
                     dbc.Container([banner, degraded, dcc.Interval(id=STOP_POLL, interval=STOP_POLL_MS), dash.page_container],
                                   fluid=True)])
