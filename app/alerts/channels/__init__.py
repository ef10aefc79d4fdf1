"""Outside channels: one module each, one call ``send(message, address..., settings) -> Outcome``.

``in-app`` needs no module: the ``alert_events`` row is the notification (the page's bell and list).
``dispatch(channel, ...)`` is the one facade the delivery job and the test-send button call.
"""
from __future__ import annotations

from dataclasses import dataclass

from app.alerts.delivery import Outcome
from app.alerts.secrets import decrypt, fernet_key
from app.settings import Settings


@dataclass(frozen=True)
class Message:
    title: str
    text: str
    event: dict  # JSON-ready event fields (id, rule_id, symbol, timeframe, bar_time, value)
    delivery_key: str  # "<event id>:<channel>", sent along so a receiver can deduplicate


def dispatch(channel: str, message: Message, prefs, settings: Settings, store=None, interactive: bool = False) -> Outcome:
    """Send ``message`` on ``channel`` to the addresses in ``prefs`` (a notification_settings row).

    ``interactive`` (a user waiting on a web request, the test send): nothing waits beyond the
    channel's network timeouts (a Telegram ``retry_after`` is reported, not slept through)."""
    if prefs is None:
        return Outcome(False, error="no notification settings saved")
    if channel == "webhook":
        from app.alerts.channels import webhook

        if not prefs.webhook_url:
            return Outcome(False, error="no webhook URL set")
        secret = decrypt(fernet_key(settings.alerts_key, settings.secret_key), prefs.webhook_secret_enc) \
            if prefs.webhook_secret_enc else ""
        return webhook.send(prefs.webhook_url, secret, prefs.webhook_format, message, settings)
    if channel == "telegram":
        from app.alerts.channels import telegram

        if not prefs.telegram_chat_id:
            return Outcome(False, error="no Telegram chat id set")
        return telegram.send(prefs.telegram_chat_id, message, settings, store=store,
                             **({"max_wait_s": 0} if interactive else {}))
    if channel == "email":
        from app.alerts.channels import email

        if not prefs.email:
            return Outcome(False, error="no e-mail address set")
        return email.send(prefs.email, message, settings)
    return Outcome(False, error=f"unknown channel {channel!r}")
