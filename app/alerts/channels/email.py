"""E-mail: ``smtplib`` with STARTTLS (when ``SMTP_STARTTLS``), a plain-text and an HTML part."""
from __future__ import annotations

import html
import smtplib
import ssl
import time
from email.message import EmailMessage

from app.alerts.delivery import Outcome
from app.settings import Settings


def build(to: str, message, settings: Settings) -> EmailMessage:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = settings.smtp_from, to, message.title
    m["X-Candlewise-Delivery"] = message.delivery_key
    m.set_content(message.text)
    m.add_alternative(f"<html><body><h3>{html.escape(message.title)}</h3><p>{html.escape(message.text)}</p>"
                      "</body></html>", subtype="html")
    return m


def send(to: str, message, settings: Settings, tls_context: ssl.SSLContext | None = None) -> Outcome:
    if not settings.smtp_host:
        return Outcome(False, error="SMTP_HOST is not configured")
    t0 = time.perf_counter()
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.webhook_timeout_s * 2) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=tls_context or ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(build(to, message, settings))
    except smtplib.SMTPResponseException as exc:
        return Outcome(False, retryable=exc.smtp_code >= 400 and exc.smtp_code < 500, code=exc.smtp_code,
                       error=f"SMTP {exc.smtp_code}", latency_ms=(time.perf_counter() - t0) * 1000)
    except (smtplib.SMTPException, OSError) as exc:
        return Outcome(False, retryable=True, error=f"{type(exc).__name__}: {exc}"[:300],
                       latency_ms=(time.perf_counter() - t0) * 1000)
    return Outcome(True, code=250, latency_ms=(time.perf_counter() - t0) * 1000)
