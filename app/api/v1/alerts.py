"""``/api/v1/alerts``: the token owner's alert rules (CRUD) and their events, over ``app.alerts``.

No logic of its own: a write goes through ``app.alerts.rules`` (``save_rule``, ``delete_rule``), which
validates with ``app.alerts.validate.validate_rule`` exactly as the Alerts page does; a refused rule is
a 422 naming the field and nothing is written. Reads need ``read``, writes ``trade`` (a viewer's token
can never hold it). Another user's rule answers 404, like an unknown id.
"""
from __future__ import annotations

from flask import current_app

from app.alerts import history, rules
from app.alerts.errors import AlertInputError
from app.api.v1.auth import require, resource_blueprint
from app.api.v1.common import iso
from app.api.v1.owned import committed, missing, refuse, user_id
from app.api.v1.schemas import (AlertEventListSchema, AlertEventQuerySchema, AlertRuleListSchema,
                                AlertRuleRequestSchema, AlertRuleSchema, NotificationSettingsRequestSchema,
                                NotificationSettingsSchema)
from app.extensions import db

blp = resource_blueprint("alerts", __name__, "/api/v1/alerts", "Alert rules (create, read, update, delete) and events")
RULE = "/rules/<int(min=1, max=2147483647):rule_id>"


def url_of(rule_id: int) -> str:
    return f"/api/v1/alerts/rules/{int(rule_id)}"


def rule_view(rule) -> dict:
    return {"id": rule.id, "url": url_of(rule.id), "name": rule.name, "exchange": rule.exchange,
            "symbol": rule.symbol, "timeframe": rule.timeframe, "kind": rule.kind, "params": dict(rule.params),
            "channels": list(rule.channels), "frequency": rule.frequency, "cooldown_s": int(rule.cooldown_s),
            "quiet_start": rule.quiet_start, "quiet_end": rule.quiet_end, "expires_at": iso(rule.expires_at),
            "paused": bool(rule.paused), "finished": bool(rule.finished), "created_at": iso(rule.created_at),
            "updated_at": iso(rule.updated_at)}


def event_view(row: dict) -> dict:
    """An event of ``app.alerts.history.events`` (each delivery carries its recorded attempts as a list)."""
    return {"id": row["id"], "rule_id": row["rule_id"], "exchange": row["exchange"], "symbol": row["symbol"],
            "timeframe": row["timeframe"], "bar_time": iso(row["bar_time"]), "fired_at": iso(row["fired_at"]),
            "value": row["value"], "message": row["message"], "read": row["read_at"] is not None,
            "deliveries": [{"channel": d["channel"], "status": d["status"], "attempts": len(d["attempts"]),
                            "error": d["error"], "finished_at": iso(d["finished_at"])} for d in row["deliveries"]]}


def _settings():
    return current_app.config["CW_SETTINGS"]


def _exchange() -> str:
    from workers.schedule import default_exchange

    return default_exchange(_settings())


def _symbols() -> list[str]:
    """The symbols a rule may name: the stored watch-list and every stored series (as on the Alerts page)."""
    from app.market import watchlist

    return watchlist.offered_symbols(db.session, _settings())


def _has_champion(symbol: str, timeframe: str) -> bool:
    from app.mlops.predict import champions
    from app.mlops.service import registry

    return bool(champions(registry(_settings()), symbol, [timeframe]))


def _refused(exc: AlertInputError, what: str = "the alert rule"):
    refuse(exc.field, exc.message, detail=f"{what} is invalid")


def _missing(rule_id: int):
    missing("alert rule", rule_id)


def _own(rule_id: int):
    try:
        return rules.own_rule(db.session, user_id(), rule_id)
    except AlertInputError:
        _missing(rule_id)


def _save(form: dict, rule_id: int | None):
    try:
        rule = rules.save_rule(db.session, user_id(), form, exchange=_exchange(), symbols=_symbols(),
                               has_champion=_has_champion, rule_id=rule_id)
        out = rule_view(rule)
        db.session.commit()
    except AlertInputError as exc:
        if exc.field == "rule":
            _missing(rule_id)
        _refused(exc)
    return out


@blp.get("/rules")
@blp.response(200, AlertRuleListSchema)
@require("read")
def list_rules():
    """The token owner's rules, newest first."""
    return committed(lambda: {"rules": [rule_view(r) for r in rules.user_rules(db.session, user_id())]})


@blp.post("/rules")
@blp.arguments(AlertRuleRequestSchema(), location="json")
@blp.response(201, AlertRuleSchema)
@require("trade")
def create_rule(form):
    """Create a rule (validated as on the Alerts page; 422 naming the field, nothing stored, when refused)."""
    out = _save(form, None)
    return out, 201, {"Location": out["url"]}


@blp.get(RULE)
@blp.response(200, AlertRuleSchema)
@require("read")
def get_rule(rule_id: int):
    """One of the owner's rules."""
    return committed(lambda: rule_view(_own(rule_id)))


@blp.put(RULE)
@blp.arguments(AlertRuleRequestSchema(), location="json")
@blp.response(200, AlertRuleSchema)
@require("trade")
def replace_rule(form, rule_id: int):
    """Replace a rule with the body (a fired 'once' rule is armed again, as an edit on the page does)."""
    _own(rule_id)
    return _save(form, rule_id)


@blp.delete(RULE)
@blp.response(204)
@require("trade")
def delete_rule(rule_id: int):
    """Delete a rule with its events."""
    try:
        rules.delete_rule(db.session, user_id(), rule_id)
        db.session.commit()
    except AlertInputError:
        _missing(rule_id)
    return "", 204


@blp.get("/events")
@blp.arguments(AlertEventQuerySchema(), location="query")
@blp.response(200, AlertEventListSchema)
@require("read")
def list_events(args):
    """The owner's events, newest first, with each delivery's state (the Alerts page's history)."""
    rows = committed(lambda: history.events(db.session, user_id(), args["search"], symbol=args["symbol"],
                                            channel_status=args["status"], limit=args["limit"]))
    return {"events": [event_view(r) for r in rows]}


# ------------------------------------------------------------------ notification settings


def _key() -> bytes:
    from app.alerts.secrets import fernet_key

    s = _settings()
    return fernet_key(s.alerts_key, s.secret_key)


def settings_view(row) -> dict:
    """The owner's channel settings; the webhook secret is write-only (only whether one is stored)."""
    if row is None:
        return {"timezone": "UTC", "quiet_start": None, "quiet_end": None, "telegram_chat_id": None, "email": None,
                "webhook_url": None, "webhook_format": "json", "alerts_paused": False, "webhook_secret_set": False,
                "updated_at": None}
    return {"timezone": row.timezone, "quiet_start": row.quiet_start, "quiet_end": row.quiet_end,
            "telegram_chat_id": row.telegram_chat_id, "email": row.email, "webhook_url": row.webhook_url,
            "webhook_format": row.webhook_format, "alerts_paused": bool(row.alerts_paused),
            "webhook_secret_set": rules.has_webhook_secret(row, _key()), "updated_at": iso(row.updated_at)}


@blp.get("/settings")
@blp.response(200, NotificationSettingsSchema)
@require("read")
def get_settings():
    """The owner's notification settings (time zone, quiet hours, channels); never the webhook secret."""
    return committed(lambda: settings_view(rules.get_settings(db.session, user_id())))


@blp.put("/settings")
@blp.arguments(NotificationSettingsRequestSchema(), location="json")
@blp.response(200, NotificationSettingsSchema)
@require("trade")
def put_settings(form):
    """Replace the settings, checked as on the Alerts page (``app.alerts.rules.save_settings``).

    An empty or absent ``webhook_secret`` keeps the stored one; the secret is never sent back."""
    try:
        row = rules.save_settings(db.session, user_id(), form, key=_key(),
                                  allow_loopback=_settings().alerts_allow_loopback)
        out = settings_view(row)
        db.session.commit()
    except AlertInputError as exc:
        _refused(exc, "the notification settings")
    return out
