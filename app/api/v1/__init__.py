"""The versioned JSON API under ``/api/v1``: flask-smorest blueprints over the domain functions.

Schemas are declared once (marshmallow, ``schemas.py``) and flask-smorest validates requests,
serialises responses and generates the OpenAPI document (``/api/v1/openapi.json``) from them.
Authentication is a personal bearer token (:mod:`app.api.v1.auth`); the session cookie is never
read or set here (:mod:`app.api.v1.sessionless`), so the session's CSRF and same-origin checks do not
apply (``app.ops.security`` skips API paths), and every view still checks its scope and the user's
role on the server.
"""
from __future__ import annotations

from flask import Flask

from app.api.v1.problems import API_PREFIX, ProblemApi

API_VERSION = "1.0"


def init_app(server: Flask) -> ProblemApi:
    from app.api.v1 import (admin, alerts, backtests, candles, docs, markets, me, portfolio, predictions,
                            rate_limit, sessionless, signals)

    server.config.update(
        API_TITLE="Candlewise API",
        API_VERSION=API_VERSION,
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {"description": "Candles, signals, predictions, backtests, alerts, portfolios and admin. Authenticate with a personal "
                                    "token: `Authorization: Bearer cw_...` (create one on the API tokens page)."},
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearerAuth": []}],
        },
    )
    api = ProblemApi(server)
    for module in (me, markets, candles, signals, predictions, backtests, alerts, portfolio, admin):
        api.register_blueprint(module.blp)
    server.register_blueprint(docs.bp)
    sessionless.init_app(server)
    rate_limit.init_app(server)
    server.extensions["cw_api"] = api
    return api
