"""Telegram: the Bot API's ``sendMessage`` through ``requests`` (base URL from settings).

A per-chat limit (``TELEGRAM_PER_CHAT_PER_MIN``, a moving window from the ``limits`` library on the
shared rate-limit storage, so every worker counts together) keeps us under Telegram's own limits;
when Telegram still answers ``429`` its ``parameters.retry_after`` is honoured: the call waits that
long (up to ``MAX_WAIT_S``) and sends again, or hands back a retryable outcome for RQ's backoff.
The bot token is a setting and never appears in errors or logs.
"""
from __future__ import annotations

import time

import requests
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.alerts.delivery import Outcome
from app.settings import Settings

MAX_WAIT_S = 20


def _limiter(settings: Settings, store=None):
    return MovingWindowRateLimiter(store or storage_from_string(settings.ratelimit_storage_uri))


def send(chat_id: str, message, settings: Settings, store=None, http=requests, sleep=time.sleep,
         max_wait_s: float = MAX_WAIT_S) -> Outcome:
    """One ``sendMessage``; a 429 is waited out up to ``max_wait_s`` in all (0: never wait, as a web
    request's test send must not)."""
    if not settings.telegram_bot_token:
        return Outcome(False, error="TELEGRAM_BOT_TOKEN is not configured")
    limit = parse(f"{settings.telegram_per_chat_per_min} per minute")
    if not _limiter(settings, store).hit(limit, f"{settings.redis_prefix}:alerts:telegram", str(chat_id)):
        return Outcome(False, retryable=True, error="per-chat rate limit reached; retrying later")
    url = f"{settings.telegram_base_url.rstrip('/')}/bot{settings.telegram_bot_token}/sendMessage"
    body = {"chat_id": chat_id, "text": f"{message.title}\n{message.text}"[:4096], "disable_web_page_preview": True}
    t0 = time.perf_counter()
    waited = 0.0
    prior: list[Outcome] = []
    while True:
        try:
            r = http.post(url, json=body, timeout=settings.webhook_timeout_s)
        except requests.RequestException as exc:
            # the exception text carries the URL, hence the token: name the error type only
            return Outcome(False, retryable=True, error=f"{type(exc).__name__} talking to Telegram",
                           latency_ms=(time.perf_counter() - t0) * 1000)
        if r.status_code == 429:
            try:
                retry_after = float(r.json().get("parameters", {}).get("retry_after", 1))
            except ValueError:
                retry_after = 1.0
            asked = Outcome(False, retryable=True, code=429, error=f"Telegram asked to retry after {retry_after:g} s",
                            latency_ms=(time.perf_counter() - t0) * 1000, prior=tuple(prior))
            if waited + retry_after > max_wait_s:
                return asked
            prior.append(Outcome(False, True, 429, asked.error, asked.latency_ms))
            sleep(retry_after)
            waited += retry_after
            t0 = time.perf_counter()
            continue
        ms = (time.perf_counter() - t0) * 1000
        if r.status_code == 200:
            note = f"waited {waited:g} s (retry_after)" if waited else None
            return Outcome(True, code=200, latency_ms=ms, error=note, prior=tuple(prior))
        try:
            desc = str(r.json().get("description", ""))[:200]
        except ValueError:
            desc = ""
        return Outcome(False, retryable=r.status_code >= 500, code=r.status_code,
                       error=f"Telegram HTTP {r.status_code} {desc}".strip(), latency_ms=ms, prior=tuple(prior))
