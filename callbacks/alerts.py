"""Alerts page callbacks (and the navbar's bell): thin shells over app.alerts and app.figures.alerts.

Every write re-checks the role on the server (``require_writer``) and acts only on the signed-in
user's own rows; a refused input answers with the message naming the field and saves nothing.
"""
from __future__ import annotations

from datetime import datetime, timezone

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, html, no_update
from flask import current_app
from flask_login import current_user

from app.alerts import history, rules
from app.alerts.errors import AlertInputError
from app.alerts.gating import Gate
from app.alerts.inputs import load_bars
from app.alerts.kinds import KINDS, describe
from app.alerts.preview import preview
from app.alerts.secrets import fernet_key
from app.auth.roles import require_writer
from app.auth.roles import signed_in_user_id as _user_id
from app.extensions import db
from app.figures import alerts as views
from callbacks import inputs
from pages.alerts import (CHANNEL_LIST, CHART, COOLDOWN, DELETE, EDIT, EDIT_STORE, EDITING, EXPIRES, FORM_MSG, FREQUENCY, HISTORY,
                          KIND, LOADED, MARK_READ, NAME, NEW, PARAM, PARAMS, PAUSE, PAUSE_ALL, PREVIEW, QUIET_END,
                          PREVIEW_BARS, QUIET_START, RULES, RULES_MSG, S_CHAT, S_EMAIL, S_FORMAT, S_HOOK, S_MSG, S_QE, S_QS, S_SAVE,
                          S_SECRET, S_TZ, SAVE, SEARCH, STATUS_FILTER, SYMBOL, TEST, TICK, TIMEFRAME, VERSION,
                          param_inputs)

BADGE, TOAST, SHELL_TICK, SEEN = "nav-alerts-badge", "shell-alert-toast", "shell-alert-tick", "shell-alert-seen"


def _settings():
    return current_app.config["CW_SETTINGS"]


def _key() -> bytes:
    s = _settings()
    return fernet_key(s.alerts_key, s.secret_key)


def _exchange() -> str:
    from workers.schedule import default_exchange

    return default_exchange(_settings())


def _symbols() -> list[str]:
    from app.market import watchlist

    return watchlist.offered_symbols(db.session, _settings())


def _has_champion(symbol: str, timeframe: str) -> bool:
    from app.mlops.predict import champions
    from app.mlops.service import registry

    return bool(champions(registry(_settings()), symbol, [timeframe]))


def _error(exc: AlertInputError, what: str = "Not saved"):
    return dbc.Alert([html.Strong(f"{what}: "), html.Span(exc.field, className="font-monospace"), f" {exc.message}"],
                     color="danger", id="al-error")


def _form(name, symbol, timeframe, kind, params, channels, frequency, cooldown, qs, qe, expires):
    return {"name": name, "symbol": symbol, "timeframe": timeframe, "kind": kind, "params": params,
            "channels": channels or [],
            "frequency": frequency, "cooldown_s": cooldown, "quiet_start": qs, "quiet_end": qe, "expires_at": expires}


@callback(Output(PARAMS, "children"), Input(KIND, "value"), Input(EDIT_STORE, "data"), prevent_initial_call=True)
def kind_changed(kind, editing):
    """The parameter inputs of the chosen kind (with the edited rule's values when it is that kind)."""
    kind, editing = inputs.AL_KIND(kind, editing)
    if kind not in KINDS:
        return no_update
    values = editing["params"] if editing and editing.get("kind") == kind else None
    return param_inputs(kind, values)


_FORM_STATE = (State(NAME, "value"), State(SYMBOL, "value"), State(TIMEFRAME, "value"), State(KIND, "value"),
               State({"type": PARAM, "index": ALL}, "value"), State({"type": PARAM, "index": ALL}, "id"),
               State(CHANNEL_LIST, "value"), State(FREQUENCY, "value"), State(COOLDOWN, "value"),
               State(QUIET_START, "value"), State(QUIET_END, "value"), State(EXPIRES, "value"))


@callback(Output(FORM_MSG, "children"), Output(VERSION, "data"), Output(EDITING, "children", allow_duplicate=True),
          Output(EDIT_STORE, "data", allow_duplicate=True),
          Input(SAVE, "n_clicks"), *_FORM_STATE, State(EDIT_STORE, "data"), State(VERSION, "data"),
          prevent_initial_call=True)
def save(_n, name, symbol, timeframe, kind, param_values, param_ids, channels, frequency, cooldown, qs, qe, expires,
         editing, version):
    require_writer()  # viewers see alerts, they do not create them
    _n, *fields, editing, version = inputs.AL_SAVE(_n, name, symbol, timeframe, kind, (param_values, param_ids),
                                                   channels, frequency, cooldown, qs, qe, expires, editing, version)
    form = _form(*fields)
    rule_id = editing["id"] if editing else None
    try:
        rule = rules.save_rule(db.session, _user_id(), form, exchange=_exchange(), symbols=_symbols(),
                               has_champion=_has_champion, rule_id=rule_id)
        db.session.commit()
    except AlertInputError as exc:
        db.session.rollback()
        return _error(exc), no_update, no_update, no_update
    return (dbc.Alert(f"Saved rule #{rule.id}: {describe(rule.kind, rule.params)}.", color="success", duration=4000,
                      id="al-saved"), (version or 0) + 1, "", None)


@callback(Output(NAME, "value"), Output(SYMBOL, "value"), Output(TIMEFRAME, "value"), Output(KIND, "value"),
          Output(EDIT_STORE, "data"), Output(CHANNEL_LIST, "value"), Output(FREQUENCY, "value"),
          Output(COOLDOWN, "value"), Output(QUIET_START, "value"), Output(QUIET_END, "value"), Output(EXPIRES, "value"),
          Output(EDITING, "children"), Output(RULES_MSG, "children"),
          Input(EDIT, "n_clicks"), Input(NEW, "n_clicks"), State(RULES, "selected_rows"), State(RULES, "data"),
          prevent_initial_call=True)
def edit(_e, _n, selected, data):
    if ctx.triggered_id == NEW:  # a blank form: reads nothing the browser sent, changes nothing stored
        return ("", no_update, no_update, "price_cross_up", {"kind": "price_cross_up", "params": {}}, ["inapp"],
                "once_per_bar", "0", "", "", "", "", None)
    require_writer()
    _e, _n, rule_id = inputs.AL_RULE_PICK(_e, _n, (selected, data))
    if rule_id is None:
        return (*[no_update] * 12, dbc.Alert("Select a rule in the list first.", color="warning", duration=3000))
    try:
        rule = rules.own_rule(db.session, _user_id(), rule_id)
    except AlertInputError as exc:
        return (*[no_update] * 12, _error(exc, "Cannot edit"))
    f = rules.rule_form(rule)
    return (f["name"], f["symbol"], f["timeframe"], f["kind"], {"id": rule.id, "kind": f["kind"], "params": f["params"]},
            f["channels"],
            f["frequency"], str(f["cooldown_s"]), f["quiet_start"] or "", f["quiet_end"] or "", f["expires_at"] or "",
            f"#{rule.id} (editing)", None)


@callback(Output(RULES_MSG, "children", allow_duplicate=True), Output(VERSION, "data", allow_duplicate=True),
          Input(PAUSE, "n_clicks"), Input(DELETE, "n_clicks"), State(RULES, "selected_rows"), State(RULES, "data"),
          State(VERSION, "data"), prevent_initial_call=True)
def pause_or_delete(_p, _d, selected, data, version):
    require_writer()
    _p, _d, rule_id, version = inputs.AL_RULE_ACTION(_p, _d, (selected, data), version)
    if rule_id is None:
        return dbc.Alert("Select a rule in the list first.", color="warning", duration=3000), no_update
    try:
        if ctx.triggered_id == DELETE:
            rules.delete_rule(db.session, _user_id(), rule_id)
            text = f"Deleted rule #{rule_id}."
        else:
            rule = rules.own_rule(db.session, _user_id(), rule_id)
            rules.set_paused(db.session, _user_id(), rule_id, not rule.paused)
            text = f"Rule #{rule_id} {'paused' if rule.paused else 'resumed'}."
        db.session.commit()
    except AlertInputError as exc:
        db.session.rollback()
        return _error(exc, "Not changed"), no_update
    return dbc.Alert(text, color="info", duration=3000), (version or 0) + 1


@callback(Output(CHART, "figure"), Output(FORM_MSG, "children", allow_duplicate=True),
          Input(PREVIEW, "n_clicks"), *_FORM_STATE, State(PREVIEW_BARS, "value"), prevent_initial_call=True)
def show_preview(_n, name, symbol, timeframe, kind, param_values, param_ids, channels, frequency, cooldown, qs, qe,
                 expires, n_bars):
    from app.alerts.validate import validate_rule

    _n, *fields, n_bars = inputs.AL_PREVIEW(_n, name, symbol, timeframe, kind, (param_values, param_ids), channels,
                                            frequency, cooldown, qs, qe, expires, n_bars)
    n_bars = n_bars or 200
    symbols = _symbols()
    try:
        clean = validate_rule(_form(*fields), symbols=symbols)
    except AlertInputError as exc:
        return no_update, _error(exc, "No preview")
    symbol = clean["symbol"] or (symbols[0] if symbols else None)
    now = datetime.now(timezone.utc)
    bars = load_bars(db.session, _exchange(), symbol, [clean["timeframe"]], now,
                     (KINDS[clean["kind"]].needs,)).get(clean["timeframe"]) if symbol else None
    db.session.commit()  # end the read transaction before building the figure
    if bars is None or len(bars) == 0:
        return no_update, dbc.Alert(f"No closed {clean['timeframe']} bars stored for {symbol}.", color="warning")
    gate = Gate(clean["frequency"], clean["cooldown_s"])
    fired = preview(bars, clean["kind"], clean["params"], gate, last=n_bars)
    import pandas as pd

    start = max(0, len(bars) - n_bars)
    candles = pd.DataFrame({"open": bars.open, "high": bars.high, "low": bars.low, "close": bars.close,
                            "volume": bars.volume}, index=bars.times).iloc[start:]
    title = f"{symbol} {clean['timeframe']} · {describe(clean['kind'], clean['params'])}"
    fig = views.preview_figure(candles, [bars.times[i] for i in fired], title)
    return fig, dbc.Alert(f"Would have fired {len(fired)} times over the last {len(candles)} bars.", color="info",
                          id="al-preview-msg")


@callback(Output(RULES, "data"), Input(VERSION, "data"), Input(TICK, "n_intervals"), Input(SEEN, "data"))
def list_rules(_v, _n, _seen):
    uid = _user_id()
    mine = rules.user_rules(db.session, uid)
    stats = history.rule_stats(db.session, uid)
    now = datetime.now(timezone.utc)
    from app.market import watchlist

    stale = history.stale_data(db.session, mine, watchlist.symbols(db.session, _settings()), now)
    db.session.commit()
    return views.rule_rows(mine, stats, describe, now, stale)


@callback(Output(HISTORY, "data"), Input(VERSION, "data"), Input(TICK, "n_intervals"), Input(SEEN, "data"),
          Input(SEARCH, "value"), Input(STATUS_FILTER, "value"), Input(MARK_READ, "n_clicks"))
def list_events(_v, _n, _seen, search, status, _read):
    """The history; it refreshes when the bell saw a new event (``SEEN``) as well as on the page's tick."""
    _v, _n, _seen, search, status, _read = inputs.AL_EVENTS(_v, _n, _seen, search, status, _read)
    uid = _user_id()
    if ctx.triggered_id == MARK_READ:
        history.mark_read(db.session, uid)  # the user's own notifications: viewers may mark theirs read
    rows = history.events(db.session, uid, search or "", channel_status=status or None)
    db.session.commit()
    return views.event_rows(rows)


@callback(Output(S_TZ, "value"), Output(S_QS, "value"), Output(S_QE, "value"), Output(S_CHAT, "value"),
          Output(S_EMAIL, "value"), Output(S_HOOK, "value"), Output(S_FORMAT, "value"),
          Input(LOADED, "data"))
def load_settings(_loaded):
    """The channel settings into the form on page load. Not the pause switch: ``layout()`` renders it
    with the stored value, so filling it never fires ``pause_all`` (a write) on page load."""
    row = rules.get_settings(db.session, _user_id())
    db.session.commit()
    if row is None:
        return "UTC", "", "", "", "", "", "json"
    return (row.timezone, row.quiet_start or "", row.quiet_end or "", row.telegram_chat_id or "", row.email or "",
            row.webhook_url or "", row.webhook_format)


@callback(Output(S_MSG, "children"), Output(S_SECRET, "value"), Input(S_SAVE, "n_clicks"),
          State(S_TZ, "value"), State(S_QS, "value"), State(S_QE, "value"), State(S_CHAT, "value"),
          State(S_EMAIL, "value"), State(S_HOOK, "value"), State(S_FORMAT, "value"), State(S_SECRET, "value"),
          State(PAUSE_ALL, "value"), prevent_initial_call=True)
def save_settings(_n, tz, qs, qe, chat, email, hook, fmt, secret, paused):
    require_writer()
    _n, tz, qs, qe, chat, email, hook, fmt, secret, paused = inputs.AL_SETTINGS(_n, tz, qs, qe, chat, email, hook, fmt,
                                                                                secret, paused)
    form = {"timezone": tz, "quiet_start": qs, "quiet_end": qe, "telegram_chat_id": chat, "email": email,
            "webhook_url": hook, "webhook_format": fmt, "webhook_secret": secret, "alerts_paused": paused}
    try:
        rules.save_settings(db.session, _user_id(), form, key=_key(), allow_loopback=_settings().alerts_allow_loopback)
        db.session.commit()
    except AlertInputError as exc:
        db.session.rollback()
        return _error(exc), no_update
    return dbc.Alert("Settings saved.", color="success", duration=3000, id="al-settings-saved"), ""


@callback(Output(S_MSG, "children", allow_duplicate=True), Input(PAUSE_ALL, "value"), prevent_initial_call=True)
def pause_all(paused):
    """The trader flipped the switch (only a click fires this: the layout renders the stored value and
    no callback fills it). A value equal to the stored one writes nothing."""
    require_writer()
    paused = inputs.AL_PAUSE_ALL(paused)
    row = rules.get_settings(db.session, _user_id())
    if row is not None and bool(row.alerts_paused) == paused:
        db.session.commit()
        return no_update
    rules.set_alerts_paused(db.session, _user_id(), paused)
    db.session.commit()
    return dbc.Alert("Your alerts are paused." if paused else "Your alerts are on.", color="info", duration=3000)


@callback(Output(S_MSG, "children", allow_duplicate=True), Input({"type": TEST, "index": ALL}, "n_clicks"),
          prevent_initial_call=True)
def test_send(clicks):
    """One test message on the clicked channel, answered synchronously and bounded by the channel's
    timeouts (``app.alerts.try_channel``); the outcome is shown under the settings."""
    from app.alerts.try_channel import send_test

    require_writer()
    clicks = inputs.AL_TEST_SEND(clicks)
    if not ctx.triggered_id or not any(clicks):
        return no_update
    channel = inputs.test_channel(ctx.triggered_id)
    row = rules.get_settings(db.session, _user_id())
    db.session.commit()  # end the read transaction before the network call
    result = send_test(channel, row, _settings())
    if result.ok:
        return dbc.Alert(result.text, color="success", id="al-test-ok")
    return dbc.Alert(result.text, color="danger", id="al-test-failed")


@callback(Output(BADGE, "children"), Output(TOAST, "children"), Output(SEEN, "data"), Input(SHELL_TICK, "n_intervals"),
          State(SEEN, "data"))
def bell(_n, seen):
    """The navbar's unread badge, and a toast for an event newer than the last one this tab showed."""
    if not current_user.is_authenticated:
        return "", None, no_update
    _n, seen = inputs.AL_BELL(_n, seen)
    n, newest = history.unread(db.session, _user_id())
    db.session.commit()
    badge = str(n) if n else ""
    if seen is None:  # the first tick of this tab: remember where it starts, do not toast old news
        return badge, no_update, newest["id"] if newest else 0
    if newest is None or newest["id"] <= seen:
        return badge, no_update, no_update
    toast = dbc.Toast(newest["message"], header="Alert", icon="warning", duration=8000, dismissable=True,
                      id="shell-alert-toast-item", style={"position": "fixed", "top": 70, "right": 20, "zIndex": 2000})
    return badge, toast, newest["id"]
