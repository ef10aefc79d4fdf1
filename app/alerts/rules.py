"""A user's rules and notification settings: create, update, pause, delete, read (owner-scoped).

Every write validates first (``app.alerts.validate``) and changes nothing when the input is refused;
nothing here commits (the caller does).
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from app.alerts.errors import AlertInputError
from app.alerts.secrets import decrypt, encrypt
from app.alerts.validate import validate_rule, validate_settings
from app.models.alert import AlertRule, NotificationSettings


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(timezone.utc)


def own_rule(session, user_id: int, rule_id) -> AlertRule:
    try:
        rid = int(rule_id)
    except (TypeError, ValueError):
        raise AlertInputError("rule", "choose a rule first") from None
    rule = session.get(AlertRule, rid)
    if rule is None or rule.user_id != user_id:
        raise AlertInputError("rule", f"rule #{rid} does not exist")
    return rule


def save_rule(session, user_id: int, form: dict, *, exchange: str, symbols, has_champion=None,
              rule_id=None, now: datetime | None = None) -> AlertRule:
    """Create (``rule_id`` None) or update one rule from ``form``."""
    clean = validate_rule(form, symbols=symbols, has_champion=has_champion, now=_now(now))
    rule = own_rule(session, user_id, rule_id) if rule_id is not None else AlertRule(user_id=user_id, exchange=exchange)
    for key, value in clean.items():
        setattr(rule, key, value)
    rule.finished = False  # an edited 'once' rule is armed again
    rule.updated_at = _now(now)
    if rule_id is None:
        rule.created_at = _now(now)
        session.add(rule)
    session.flush()
    return rule


def set_paused(session, user_id: int, rule_id, paused: bool, now: datetime | None = None) -> AlertRule:
    rule = own_rule(session, user_id, rule_id)
    rule.paused, rule.updated_at = bool(paused), _now(now)
    return rule


def delete_rule(session, user_id: int, rule_id) -> None:
    session.delete(own_rule(session, user_id, rule_id))
    session.flush()


def rule_form(rule: AlertRule) -> dict:
    """A stored rule as the form's values (for editing)."""
    return {"name": rule.name, "symbol": rule.symbol or "*", "timeframe": rule.timeframe, "kind": rule.kind,
            "params": dict(rule.params), "channels": list(rule.channels), "frequency": rule.frequency,
            "cooldown_s": rule.cooldown_s, "quiet_start": rule.quiet_start, "quiet_end": rule.quiet_end,
            "expires_at": rule.expires_at.isoformat() if rule.expires_at else None, "paused": rule.paused}


def get_settings(session, user_id: int) -> NotificationSettings | None:
    return session.get(NotificationSettings, user_id)


def save_settings(session, user_id: int, form: dict, *, key: bytes, allow_loopback: bool,
                  now: datetime | None = None) -> NotificationSettings:
    """Validate and store; an empty webhook secret keeps the stored one (it is never shown back)."""
    clean = validate_settings(form, allow_loopback=allow_loopback)
    row = get_settings(session, user_id) or NotificationSettings(user_id=user_id)
    secret = clean.pop("webhook_secret")
    for k, v in clean.items():
        setattr(row, k, v)
    if secret:
        row.webhook_secret_enc = encrypt(key, secret)
    row.updated_at = _now(now)
    session.add(row)
    session.flush()
    return row


def set_alerts_paused(session, user_id: int, paused: bool, now: datetime | None = None) -> NotificationSettings:
    """The user's "pause my alerts" switch: no rule of theirs fires while it is on."""
    row = get_settings(session, user_id) or NotificationSettings(user_id=user_id, timezone="UTC",
                                                                 webhook_format="json")
    row.alerts_paused, row.updated_at = bool(paused), _now(now)
    session.add(row)
    session.flush()
    return row


def has_webhook_secret(row: NotificationSettings | None, key: bytes) -> bool:
    if row is None or not row.webhook_secret_enc:
        return False
    decrypt(key, row.webhook_secret_enc)
    return True


def user_rules(session, user_id: int) -> list[AlertRule]:
    return list(session.execute(select(AlertRule).where(AlertRule.user_id == user_id)
                                .order_by(AlertRule.id.desc())).scalars())
