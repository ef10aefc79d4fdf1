"""Alerts: rules (create, edit, pause, delete, preview on the chart), the event history with every
delivery attempt, and the user's channel settings with a test-send button per channel."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dash_table, dcc, html
from flask_login import current_user

from app.alerts.kinds import KINDS
from app.alerts.validate import CHANNELS, WEBHOOK_FORMATS
from app.marketdata import TIMEFRAMES
from app.models.alert import FREQUENCIES
from pages._ui import DARK_TABLE

dash.register_page(__name__, path="/alerts", name="Alerts", title="Alerts · Candlewise")

# Component ids (convention 8)
NAME, SYMBOL, TIMEFRAME, KIND, PARAMS, CHANNEL_LIST, FREQUENCY, COOLDOWN = (
    "al-name", "al-symbol", "al-timeframe", "al-kind", "al-params", "al-channels", "al-frequency", "al-cooldown")
QUIET_START, QUIET_END, EXPIRES, SAVE, PREVIEW, NEW, FORM_MSG, CHART, EDITING = (
    "al-quiet-start", "al-quiet-end", "al-expires", "al-save", "al-preview", "al-new", "al-form-msg", "al-chart",
    "al-editing")
RULES, EDIT, PAUSE, DELETE, RULES_MSG, VERSION, TICK = (
    "al-rules", "al-edit", "al-pause", "al-delete", "al-rules-msg", "al-version", "al-tick")
HISTORY, SEARCH, STATUS_FILTER, MARK_READ = "al-history", "al-search", "al-status-filter", "al-mark-read"
PAUSE_ALL, LOADED, EDIT_STORE = "al-pause-all", "al-loaded", "al-edit-store"
PREVIEW_BARS = "al-preview-bars"
PREVIEW_CHOICES = (50, 100, 200, 400)  # the preview's "last N bars" (evaluation reads at most 400)
S_TZ, S_QS, S_QE, S_CHAT, S_EMAIL, S_HOOK, S_FORMAT, S_SECRET, S_SAVE, S_MSG = (
    "al-s-timezone", "al-s-quiet-start", "al-s-quiet-end", "al-s-chat", "al-s-email", "al-s-webhook",
    "al-s-format", "al-s-secret", "al-s-save", "al-s-msg")
TEST = "al-test"  # pattern-matching id: {"type": TEST, "index": channel}
PARAM = "al-param"  # pattern-matching id: {"type": PARAM, "index": parameter name}

RULE_COLUMNS = [{"name": n, "id": i} for n, i in (
    ("#", "id"), ("Name", "name"), ("Symbol", "symbol"), ("TF", "timeframe"), ("Condition", "condition"),
    ("Frequency", "frequency"), ("Channels", "channels"), ("State", "state"), ("Triggers", "triggers"),
    ("Last fired (UTC)", "last_fired"), ("Delivered", "delivered"))]
EVENT_COLUMNS = [{"name": n, "id": i} for n, i in (
    ("#", "id"), ("Fired (UTC)", "fired"), ("Bar (UTC)", "bar"), ("Symbol", "symbol"), ("TF", "timeframe"),
    ("Message", "message"), ("", "read"), ("Deliveries (attempts)", "deliveries"))]


def _field(label, component, md=6):
    return dbc.Col([dbc.Label(label, html_for=component.id, className="small mb-0"), component], md=md,
                   className="mb-2")


def param_inputs(kind: str, values: dict | None = None) -> list:
    """One input per parameter of ``kind`` (a pattern-matching id per parameter name)."""
    values = values or {}
    cols = []
    for name, p in KINDS[kind].params.items():
        value = values.get(name, p.default)
        pid = {"type": PARAM, "index": name}
        if p.type == "choice":
            options = [{"label": str(c), "value": c} for c in p.choices]
            if not p.required:
                options = [{"label": "(any)", "value": ""}] + options
            comp = dbc.Select(id=pid, options=options, value=value if value is not None else "", size="sm")
        else:
            comp = dbc.Input(id=pid, type="text", value="" if value is None else value, size="sm")
        cols.append(dbc.Col([dbc.Label(name, className="small mb-0"), comp], md=4, className="mb-2"))
    return cols


def _rule_form(symbols: list[str], disabled: bool):
    return dbc.Card([
        dbc.CardHeader([html.Span("Rule", id="al-form-title"), html.Span(id=EDITING, className="ms-2 text-info")]),
        dbc.CardBody([
            dbc.Row([
                _field("Name", dbc.Input(id=NAME, placeholder="BTC breakout", size="sm"), 12),
                _field("Symbol", dbc.Select(id=SYMBOL, options=[{"label": "whole watch-list", "value": "*"}]
                                            + [{"label": s, "value": s} for s in symbols],
                                            value=symbols[0] if symbols else "*", size="sm"), 6),
                _field("Timeframe", dbc.Select(id=TIMEFRAME, options=list(TIMEFRAMES), value="1h", size="sm"), 6),
                _field("Condition", dbc.Select(id=KIND, options=[{"label": k.label, "value": n} for n, k in KINDS.items()],
                                               value="price_cross_up", size="sm"), 12),
            ], className="g-2"),
            dbc.Row(param_inputs("price_cross_up"), id=PARAMS, className="g-2"),
            dbc.Row([
                _field("Channels", dbc.Checklist(id=CHANNEL_LIST, options=list(CHANNELS), value=["inapp"], inline=True), 12),
                _field("Frequency", dbc.Select(id=FREQUENCY, options=[{"label": f.replace("_", " "), "value": f}
                                                                      for f in FREQUENCIES],
                                               value="once_per_bar", size="sm"), 6),
                _field("Cooldown (s)", dbc.Input(id=COOLDOWN, value="0", size="sm"), 6),
                _field("Quiet from (HH:MM)", dbc.Input(id=QUIET_START, placeholder="22:00", size="sm"), 4),
                _field("Quiet until", dbc.Input(id=QUIET_END, placeholder="07:00", size="sm"), 4),
                _field("Expires (UTC, ISO)", dbc.Input(id=EXPIRES, placeholder="2027-01-01T00:00", size="sm"), 4),
            ], className="g-2"),
            dbc.ButtonGroup([
                dbc.Button("Save rule", id=SAVE, color="primary", size="sm", disabled=disabled),
                dbc.Button("Preview on chart", id=PREVIEW, color="secondary", size="sm"),
                dbc.Select(id=PREVIEW_BARS, options=[{"label": f"last {n} bars", "value": str(n)}
                                                     for n in PREVIEW_CHOICES], value="200", size="sm"),
                dbc.Button("New rule", id=NEW, color="link", size="sm"),
            ], className="mt-1"),
            html.Div(id=FORM_MSG, className="mt-2"),
        ]),
    ])


def _settings_card(disabled: bool):
    return dbc.Card([
        dbc.CardHeader("Notification channels"),
        dbc.CardBody([
            dbc.Row([
                _field("Time zone", dbc.Input(id=S_TZ, value="UTC", size="sm"), 4),
                _field("Quiet from", dbc.Input(id=S_QS, placeholder="22:00", size="sm"), 4),
                _field("Quiet until", dbc.Input(id=S_QE, placeholder="07:00", size="sm"), 4),
                _field("Telegram chat id", dbc.Input(id=S_CHAT, size="sm"), 6),
                _field("E-mail", dbc.Input(id=S_EMAIL, size="sm"), 6),
                _field("Webhook URL", dbc.Input(id=S_HOOK, size="sm"), 8),
                _field("Format", dbc.Select(id=S_FORMAT, options=list(WEBHOOK_FORMATS), value="json", size="sm"), 4),
                _field("Webhook secret (kept encrypted; empty keeps the saved one)",
                       dbc.Input(id=S_SECRET, type="password", size="sm"), 12),
            ], className="g-2"),
            dbc.Button("Save settings", id=S_SAVE, color="primary", size="sm", disabled=disabled, className="me-2"),
            *[dbc.Button(f"Test {ch}", id={"type": TEST, "index": ch}, color="outline-info", size="sm",
                         className="me-1", disabled=disabled) for ch in ("telegram", "email", "webhook")],
            html.Div(id=S_MSG, className="mt-2"),
        ]),
    ], className="mt-3")


def _stored_pause() -> bool:
    """The signed-in user's stored "pause my alerts" value: the switch is rendered with it, so no
    callback has to fill it (filling it would fire the write callback on every page load)."""
    from app.alerts.rules import get_settings
    from app.auth.roles import signed_in_user_id
    from app.extensions import db

    row = get_settings(db.session, signed_in_user_id())
    db.session.commit()
    return bool(row.alerts_paused) if row is not None else False


def _watched(settings) -> list[str]:
    """The stored watch-list's symbols (a market added on the Admin page shows here at once)."""
    from app.extensions import db
    from app.market import watchlist

    symbols = watchlist.symbols(db.session, settings)
    db.session.commit()  # end the read transaction
    return symbols


def layout(**_query):
    from flask import current_app

    settings = current_app.config["CW_SETTINGS"]
    disabled = not (current_user.is_authenticated and current_user.can_write)
    symbols = _watched(settings)
    paused = _stored_pause() if current_user.is_authenticated else False
    return html.Div([
        dcc.Store(id=VERSION, data=0), dcc.Store(id=LOADED, data=0), dcc.Store(id=EDIT_STORE), dcc.Interval(id=TICK, interval=settings.refresh_ms),
        dbc.Row([
            dbc.Col(html.H4("Alerts"), md=8),
            dbc.Col(dbc.Switch(id=PAUSE_ALL, label="Pause my alerts", value=paused, disabled=disabled), md=4,
                    className="text-end"),
        ]),
        dbc.Alert("Viewers see alerts; traders create them.", color="secondary", id="al-viewer-note")
        if disabled else None,
        dbc.Row([
            dbc.Col([_rule_form(symbols, disabled), _settings_card(disabled)], md=5),
            dbc.Col([
                dcc.Graph(id=CHART, config={"displaylogo": False}),
                html.H6("Rules", className="mt-2"),
                dbc.ButtonGroup([
                    dbc.Button("Edit", id=EDIT, size="sm", color="secondary", disabled=disabled),
                    dbc.Button("Pause / resume", id=PAUSE, size="sm", color="warning", disabled=disabled),
                    dbc.Button("Delete", id=DELETE, size="sm", color="danger", disabled=disabled),
                ], className="mb-2"),
                html.Div(id=RULES_MSG),
                dash_table.DataTable(id=RULES, columns=RULE_COLUMNS, data=[], row_selectable="single",
                                     page_size=10, **DARK_TABLE),
                html.H6("History", className="mt-3"),
                dbc.Row([
                    dbc.Col(dbc.Input(id=SEARCH, placeholder="search message or symbol", size="sm", debounce=True), md=6),
                    dbc.Col(dbc.Select(id=STATUS_FILTER, options=[{"label": "any delivery", "value": ""}] + [
                        {"label": s, "value": s} for s in ("sent", "failed", "unknown", "pending", "suppressed")],
                        value="", size="sm"), md=3),
                    dbc.Col(dbc.Button("Mark all read", id=MARK_READ, size="sm", color="secondary"), md=3),
                ], className="mb-2 g-2"),
                dash_table.DataTable(id=HISTORY, columns=EVENT_COLUMNS, data=[], page_size=15, **DARK_TABLE),
            ], md=7),
        ]),
    ])
