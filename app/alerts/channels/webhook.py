"""Webhook: a JSON POST signed with HMAC-SHA256 over ``"<timestamp>.<body>"``.

Headers: ``X-Candlewise-Timestamp`` (Unix seconds), ``X-Candlewise-Signature: sha256=<hex>``,
``X-Candlewise-Delivery`` (the delivery key). A receiver recomputes the HMAC with the shared secret
and refuses stale timestamps (replay). Formats: ``json`` (the event), ``discord`` (``content``) and
``slack`` (``text``). 5 s timeout, no redirects followed, and the target is checked against SSRF
again before each send (DNS answers change).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time

import requests

from app.alerts.delivery import Outcome
from app.alerts.errors import AlertInputError
from app.alerts.ssrf import check_url
from app.settings import Settings


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def payload(fmt: str, message) -> dict:
    if fmt == "discord":
        return {"content": f"**{message.title}**\n{message.text}"[:2000]}
    if fmt == "slack":
        return {"text": f"*{message.title}*\n{message.text}"}
    return {"title": message.title, "text": message.text, "event": message.event, "delivery": message.delivery_key}


def send(url: str, secret: str, fmt: str, message, settings: Settings, http=requests) -> Outcome:
    try:
        check_url(url, allow_loopback=settings.alerts_allow_loopback)
    except AlertInputError as exc:
        return Outcome(False, error=exc.message)
    body = json.dumps(payload(fmt, message), separators=(",", ":"), default=str).encode()
    ts = str(int(time.time()))
    headers = {"Content-Type": "application/json", "User-Agent": "Candlewise-Alerts/1",
               "X-Candlewise-Timestamp": ts, "X-Candlewise-Delivery": message.delivery_key}
    if secret:
        headers["X-Candlewise-Signature"] = sign(secret, ts, body)
    t0 = time.perf_counter()
    try:
        r = http.post(url, data=body, headers=headers, timeout=settings.webhook_timeout_s, allow_redirects=False)
    except requests.RequestException as exc:
        return Outcome(False, retryable=True, error=f"{type(exc).__name__}: {exc}"[:300],
                       latency_ms=(time.perf_counter() - t0) * 1000)
    ms = (time.perf_counter() - t0) * 1000
    if 200 <= r.status_code < 300:
        return Outcome(True, code=r.status_code, latency_ms=ms)
    retryable = r.status_code >= 500 or r.status_code in (408, 429)
    return Outcome(False, retryable=retryable, code=r.status_code, error=f"HTTP {r.status_code}", latency_ms=ms)
