"""No session cookie on ``/api/v1``: it is neither read nor set there.

API requests authenticate with bearer tokens only (:mod:`app.api.v1.auth`). A session cookie sent
along is not even decoded, so nothing serving an API request can reach a signed-in user through it,
and whatever such a request writes into the session is dropped instead of sent back as a cookie.
(Dash builds the page layout once, on the first request a process serves, and that draws the sign-in
form's CSRF token into the session: when that request was an API call, its answer carried a
``Set-Cookie`` and ``Vary: Cookie``, and a client that kept the cookie sent it on every later call.)
Everywhere else this is Flask's signed-cookie session, unchanged.
"""
from __future__ import annotations

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from app.api.v1.problems import is_api_path


class SessionlessApi(SecureCookieSessionInterface):
    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if is_api_path(request.path):
            return self.session_class()  # empty; never saved (below)
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SecureCookieSession, response: Response) -> None:
        from flask import request

        if is_api_path(request.path):
            return None
        return super().save_session(app, session, response)


def init_app(server: Flask) -> None:
    if type(server.session_interface) is not SecureCookieSessionInterface:
        raise RuntimeError(f"the server already has a session interface: {server.session_interface!r}")
    server.session_interface = SessionlessApi()
