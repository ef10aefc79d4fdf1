"""The request guard: every request needs a logged-in user unless its path is public.

The decision uses only the server-side session and the request path the server
routes (never a page name sent by the client, dash-auth's old pitfall).
"""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, jsonify, redirect, request
from flask_login import current_user

PUBLIC_EXACT = frozenset({"/login", "/healthz", "/readyz", "/metrics", "/_favicon.ico", "/favicon.ico"})
# Static files only: JS bundles, assets, Bootstrap CSS/fonts. Dash's data routes
# (/_dash-layout, /_dash-dependencies, /_dash-update-component, /_reload-hash) are NOT public.
PUBLIC_PREFIXES = ("/_dash-component-suites/", "/assets/", "/theme/")


def is_public(path: str) -> bool:
    return path in PUBLIC_EXACT or path.startswith(PUBLIC_PREFIXES)


def safe_next(target: str | None) -> str:
    """Only local absolute paths are allowed as a post-login redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _guard():
    if is_public(request.path) or current_user.is_authenticated:
        return None
    if request.path.startswith("/_dash-") or request.path.startswith("/_reload") or request.path.startswith("/api/"):
        return jsonify(error="authentication required", login="/login"), 401
    query = urlencode({"next": request.full_path.rstrip("?")})
    return redirect(f"/login?{query}")


def init_app(server: Flask) -> None:
    server.before_request(_guard)
