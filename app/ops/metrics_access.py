"""Who may read ``/metrics``.

In production the endpoint needs ``Authorization: Bearer <METRICS_TOKEN>`` or a client address inside
``METRICS_ALLOW_NETWORKS``; with neither configured nobody gets in. Outside production it is open unless
one of them is set (then the same rule applies). The client address is ``request.remote_addr``, which in
production is what ProxyFix took from nginx's ``X-Forwarded-For`` — nginx also refuses ``/metrics``
from outside, so the allow-list is for Prometheus talking to gunicorn directly.
"""
from __future__ import annotations

import hmac
import ipaddress

from flask import Flask, jsonify, request

from app.settings import Settings

METRICS_PATH = "/metrics"


def is_restricted(settings: Settings) -> bool:
    return settings.production or bool(settings.metrics_token) or bool(settings.metrics_allow_networks)


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def address_allowed(address: str | None, networks) -> bool:
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def allowed(settings: Settings, authorization: str | None, address: str | None, networks=None) -> bool:
    """The decision, pure: a matching bearer token or an allow-listed address."""
    if not is_restricted(settings):
        return True
    token = bearer_token(authorization)
    if settings.metrics_token and token is not None and hmac.compare_digest(
            token.encode(), settings.metrics_token.encode()):
        return True
    if networks is None:
        networks = [ipaddress.ip_network(n, strict=False) for n in settings.metrics_allow_networks]
    return address_allowed(address, networks)


def init_app(server: Flask, settings: Settings) -> None:
    """A ``before_request`` for ``/metrics`` only (the session guard leaves that path to this check)."""
    networks = [ipaddress.ip_network(n, strict=False) for n in settings.metrics_allow_networks]

    @server.before_request
    def _metrics_access():
        if request.path != METRICS_PATH:
            return None
        if allowed(settings, request.headers.get("Authorization"), request.remote_addr, networks):
            return None
        resp = jsonify(error="metrics need a bearer token or an allow-listed network")
        resp.status_code = 401
        resp.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return resp
