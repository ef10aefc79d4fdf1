"""The frame around every page: navbar, user menu, page container.

Not a page itself (Dash's page discovery skips modules starting with ``_``).
"""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user
from flask_wtf.csrf import generate_csrf


def _nav_links():
    links = [
        dbc.NavItem(dbc.NavLink([html.I(className="bi bi-bar-chart-line me-1"), "Market"], href="/", active="exact")),
        dbc.NavItem(dbc.NavLink([html.I(className="bi bi-activity me-1"), "Signals"], href="/signals",
                                active="exact", id="nav-signals")),
        dbc.NavItem(dbc.NavLink([html.I(className="bi bi-clock-history me-1"), "Backtests"], href="/backtests",
                                active="exact", id="nav-backtests")),
        # a plain Flask page (app/api/token_page.py), so a full page load rather than Dash's router
        dbc.NavItem(dbc.NavLink([html.I(className="bi bi-key me-1"), "API tokens"], href="/account/tokens",
                                external_link=True, id="nav-tokens")),
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
    return html.Div([navbar, dbc.Container(dash.page_container, fluid=True)])
