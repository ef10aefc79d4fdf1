"""HTTP hardening for the Flask server and the Dash app on it.

``init_app(server, settings)`` (server only, no Dash import):

* ``MAX_CONTENT_LENGTH`` from ``MAX_REQUEST_BYTES``: larger bodies get 413 before any view reads them;
* a same-origin check on every state-changing request (POST, PUT, PATCH, DELETE), Dash's JSON
  callback route included: a foreign or ``null`` ``Origin`` (or, without ``Origin``, a foreign
  ``Referer``) is refused with 403. Requests with neither header (non-browser clients, which
  cannot carry a victim's cookies) pass on to the other checks;
* CSRF tokens on HTML forms (Flask-WTF's ``CSRFProtect``: the login and logout forms);
* security headers through Flask-Talisman: a Content-Security-Policy without inline or eval'd
  scripts, ``frame-ancestors 'none'`` plus ``X-Frame-Options: DENY``, ``nosniff``, a referrer policy,
  HSTS on HTTPS requests.

``init_dash(app)``: adds the hashes of Dash's own inline scripts to ``script-src``
(``dash.Dash.csp_hashes()``), exempts the JSON callback route from the form token (the origin
check covers it), and answers an unknown or malformed component-suite path with a quiet 404.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, jsonify, request
from flask_talisman import Talisman

from app.extensions import csrf

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_PORTS = {"http": 80, "https": 443}


def csp_policy(script_hashes: tuple[str, ...] | list[str] = ()) -> dict[str, str | list[str]]:
    """The Content-Security-Policy: everything from this origin only, scripts by file or by hash.

    Styles allow ``'unsafe-inline'``: plotly.js and Dash's components write ``<style>`` elements and
    style attributes at run time (no script can run through a style).
    """
    return {
        "default-src": "'self'",
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": "'self'",
        "worker-src": ["'self'", "blob:"],
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = (parts.scheme or "").lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme]


def same_origin(value: str, host_url: str) -> bool:
    """True when the Origin or Referer ``value`` is the origin of ``host_url`` (scheme, host, port)."""
    theirs = _origin(value)
    return theirs is not None and theirs == _origin(host_url)


def _refuse(reason: str):
    message = f"Refused: cross-site request ({reason})."
    if request.path.startswith(("/_dash-", "/api/")):
        return jsonify(error=message), 403
    return Response(message, status=403, mimetype="text/plain")


def check_origin():
    """before_request: state-changing requests must come from this site's own pages."""
    if request.method not in UNSAFE_METHODS:
        return None
    if request.path.startswith("/api/v1/"):
        return None  # bearer tokens only there, never the cookie: a cross-site page cannot forge them
    origin = request.headers.get("Origin")
    if origin is not None:
        if not same_origin(origin, request.host_url):
            return _refuse(f"Origin {origin[:100]!r} is not this site")
        return None
    referer = request.headers.get("Referer")
    if referer and not same_origin(referer, request.host_url):
        return _refuse("the Referer is not this site")
    return None


def _too_large(_exc):
    limit = request.max_content_length
    message = f"Request body too large: at most {limit} bytes are accepted."
    if request.path.startswith(("/_dash-", "/api/")):
        return jsonify(error=message), 413
    return Response(message, status=413, mimetype="text/plain")


def init_app(server: Flask, settings) -> None:
    server.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    server.register_error_handler(413, _too_large)
    # First of all before_request hooks: a cross-site request is refused before any other work.
    server.before_request_funcs.setdefault(None, []).insert(0, check_origin)
    csrf.init_app(server)
    server.extensions["cw_talisman"] = Talisman(
        server,
        force_https=False,  # nginx terminates TLS and redirects; health checks reach gunicorn over HTTP
        strict_transport_security=True,  # sent on HTTPS requests only
        strict_transport_security_max_age=31536000,  # one year, as deploy/nginx sends it
        session_cookie_secure=settings.session_cookie_secure,
        session_cookie_http_only=True,
        frame_options="DENY",
        content_security_policy=csp_policy(),
        referrer_policy="strict-origin-when-cross-origin",
        x_content_type_options=True,
    )


def _quiet_404(_exc):
    return Response("not found", status=404, mimetype="text/plain")


def init_dash(app) -> None:
    """The Dash-specific part: CSP hashes of Dash's inline scripts, the callback route's CSRF exemption."""
    from dash.exceptions import DependencyException

    server = app.server
    talisman = server.extensions["cw_talisman"]
    talisman.content_security_policy = csp_policy(tuple(app.csp_hashes()))
    ready = []

    def _hash_inline_scripts_after_dash_setup():
        # Dash registers some inline scripts (the pages title callback) in its first-request setup,
        # a before_request hook added before this one: hash them once that has run.
        if not ready:
            talisman.content_security_policy = csp_policy(tuple(app.csp_hashes()))
            ready.append(True)

    server.before_request(_hash_inline_scripts_after_dash_setup)
    prefix = app.config.routes_pathname_prefix
    csrf.exempt(server.view_functions[f"{prefix}_dash-update-component"])
    # /_dash-component-suites/<unknown package or path>: Dash raises; answer 404 without a traceback.
    server.register_error_handler(DependencyException, _quiet_404)
