"""The forced password change: a user signed in with an admin's one-time password (created or reset,
``User.must_change_password``) reaches nothing but the change form until they choose their own.

A ``before_request`` hook after the sign-in guard, reading only the server-side user loaded for the
session: a page request is redirected to ``/account/password`` (carrying where it was going), a Dash
request (layout, dependencies, every callback) and any other request is refused with 403 and says
where to go. Signing out and the public files stay reachable.
"""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, Response, jsonify, redirect, request
from flask_login import current_user

from app.auth.guard import is_public

CHANGE_PATH = "/account/password"
REACHABLE = frozenset({CHANGE_PATH, "/logout", "/login"})
MESSAGE = "Choose a new password first: your password was set by an administrator for one use only."


def must_change(user) -> bool:
    """Whether ``user`` (the session's) has to choose a new password before anything else."""
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "must_change_password", False))


def _check():
    if request.path in REACHABLE or is_public(request.path) or not must_change(current_user):
        return None
    if request.path.startswith(("/_dash-", "/_reload", "/api/")):
        return jsonify(error=MESSAGE, change_password=CHANGE_PATH), 403
    if request.method in ("GET", "HEAD"):
        return redirect(f"{CHANGE_PATH}?{urlencode({'next': request.full_path.rstrip('?')})}")
    return Response(MESSAGE, status=403, mimetype="text/plain")


def init_app(server: Flask) -> None:
    """Register after :func:`app.auth.guard.init_app` (the guard decides who is signed in first)."""
    server.before_request(_check)
