"""Webhook targets and server-side request forgery: only public addresses, unless allowed.

Every address the host name resolves to must be global (not private, loopback, link-local,
multicast, reserved or unspecified); ``allow_loopback`` (development and tests) lets 127.0.0.0/8 and
::1 through, nothing else. The check runs when the URL is saved and again before each send, since
DNS answers change.
"""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from app.alerts.errors import AlertInputError


def check_url(url: str, *, allow_loopback: bool, field: str = "webhook_url", resolve=socket.getaddrinfo) -> str:
    if not isinstance(url, str) or not url.strip():
        raise AlertInputError(field, "enter a URL like https://example.com/hook")
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise AlertInputError(field, "is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AlertInputError(field, "must be an http:// or https:// URL with a host")
    if parts.username or parts.password:
        raise AlertInputError(field, "must not carry a user name or password")
    try:
        infos = resolve(parts.hostname, port or (443 if parts.scheme == "https" else 80), proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise AlertInputError(field, f"host {parts.hostname!r} does not resolve") from None
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%")[0])
        if ip.is_loopback and allow_loopback:
            continue
        if not ip.is_global or ip.is_multicast:
            raise AlertInputError(field, f"{parts.hostname} resolves to {ip}, a private, loopback or link-local "
                                         "address; only public addresses are allowed")
    return url
