"""The request guard: every request needs a logged-in user unless its path is public.

The decision uses only the server-side session and the request path the server
routes (never a page name sent by the client, dash-auth's old pitfall).
"""
from __future__ import annotations

import re
from urllib.parse import urlencode, urlsplit, urlunsplit

from flask import Flask, Response, jsonify, redirect, request
from flask_login import current_user

from app.extensions import db

PUBLIC_EXACT = frozenset({"/login", "/healthz", "/readyz", "/metrics", "/_favicon.ico", "/favicon.ico"})
# Static files only: JS bundles, assets, Bootstrap CSS/fonts. Dash's data routes
# (/_dash-layout, /_dash-dependencies, /_dash-update-component, /_reload-hash) are NOT public.
# /api/v1/ authenticates with its own bearer tokens (app.api.v1.auth) and never with the session cookie.
PUBLIC_PREFIXES = ("/_dash-component-suites/", "/assets/", "/theme/", "/api/v1/")


def is_public(path: str) -> bool:
    return path in PUBLIC_EXACT or path.startswith(PUBLIC_PREFIXES)


# What browsers drop from a URL before parsing it (WHATWG URL: ASCII tab and newline anywhere,
# C0 controls and space at the ends); any other control character makes the target invalid.
_STRIPPED = re.compile(r"[\t\n\r]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_C0_AND_SPACE = "".join(map(chr, range(0x21)))


def safe_next(target: str | None) -> str:
    """A same-origin path for the post-login redirect; "/" for anything else.

    The target is read the way a browser reads it (tab/newline removed, ends trimmed, backslash
    as slash) and must then be a plain path: no scheme, no host, not starting with ``//``.
    """
    if not isinstance(target, str) or not target:
        return "/"
    cleaned = _STRIPPED.sub("", target).strip(_C0_AND_SPACE)
    if not cleaned or _CONTROL.search(cleaned) or "\\" in cleaned:
        return "/"
    parts = urlsplit(cleaned)
    if parts.scheme or parts.netloc or not cleaned.startswith("/") or cleaned.startswith("//"):
        return "/"
    return urlunsplit(("", "", parts.path, parts.query, parts.fragment))


def _public_rule(rule: str) -> bool:
    return rule in PUBLIC_EXACT or rule.startswith(PUBLIC_PREFIXES)


def _end_read_transaction() -> None:
    """End the session check's read transaction, so no connection sits idle in a transaction while the
    request does its work; the user just read stays loaded (not expired), so it costs no second query."""
    session = db.session()
    keep, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep


def _guard():
    if is_public(request.path):
        # Public only when a route of its own serves it: a public-looking path that nothing but
        # Dash's catch-all page route matches (/theme/x, /favicon.ico) is not found, for everyone.
        rule = request.url_rule
        if rule is not None and not _public_rule(rule.rule):
            return Response("not found", status=404, mimetype="text/plain")
        return None
    if current_user.is_authenticated:
        _end_read_transaction()
        return None
    if request.path.startswith("/_dash-") or request.path.startswith("/_reload") or request.path.startswith("/api/"):
        return jsonify(error="authentication required", login="/login"), 401
    query = urlencode({"next": request.full_path.rstrip("?")})
    return redirect(f"/login?{query}")


def init_app(server: Flask) -> None:
    server.before_request(_guard)
