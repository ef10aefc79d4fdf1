"""Secrets at rest (webhook signing secrets): Fernet (AES-128-CBC + HMAC-SHA256) from ``cryptography``.

The key comes from ``Settings.alerts_key`` (``ALERTS_SECRET_KEY``, a Fernet key); outside
production, when none is set, one is derived from ``SECRET_KEY`` (production refuses to start
without its own, see ``app.settings``).
"""
from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken


def fernet_key(alerts_key: str | None, secret_key: str) -> bytes:
    if alerts_key:
        return alerts_key.encode()
    return base64.urlsafe_b64encode(hashlib.sha256(b"candlewise-alerts:" + secret_key.encode()).digest())


def encrypt(key: bytes, plain: str) -> str:
    return Fernet(key).encrypt(plain.encode()).decode()


def decrypt(key: bytes, token: str) -> str:
    try:
        return Fernet(key).decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("the stored secret cannot be decrypted with this ALERTS_SECRET_KEY") from None
