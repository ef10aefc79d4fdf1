"""Fail fast and say why: a database or Redis outage answers 503 with a clear message, never a hang or a 500.

``engine_options(url)`` are the PostgreSQL pool limits that make a database outage fail fast
(``connect_timeout`` 3 s per connection attempt, ``pool_timeout`` 5 s waiting for a pooled
connection, ``pool_pre_ping`` so a connection the outage killed is replaced, not handed out): the pool
recovers by itself when the database is back, without restarting any process.

``init_app(server)`` registers the handlers: SQLAlchemy's connection errors (``OperationalError``,
``InterfaceError``, the pool's ``TimeoutError``) and Redis errors (which also trip the hot-state
breaker of :mod:`app.hot.outage`, so the following requests degrade instead of failing) answer 503
with ``Retry-After``. The message names the service, never the URL or its credentials.
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from redis.exceptions import RedisError
from sqlalchemy import exc as sa_exc

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 3
POOL_TIMEOUT_S = 5
DB_MESSAGE = "The database is unavailable right now; nothing was changed. Try again in a few seconds."
REDIS_MESSAGE = "The live data service is unavailable right now; nothing was changed. Try again in a few seconds."


def engine_options(url: str) -> dict:
    """SQLAlchemy engine options for ``url``: fail-fast limits on PostgreSQL, pre-ping everywhere."""
    options: dict = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        options.update(pool_timeout=POOL_TIMEOUT_S, connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
    return options


def _answer(message: str, service: str):
    if request.path.startswith("/api/"):
        resp = jsonify(type="about:blank", title="Service Unavailable", status=503, detail=message)
        resp.mimetype = "application/problem+json"
    else:
        resp = jsonify(status="unavailable", service=service, message=message)
    resp.status_code = 503
    resp.headers["Retry-After"] = "5"
    return resp


def _database_down(err: Exception):
    from app.extensions import db

    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is gone; the pool replaces it (pre-ping)
        pass
    log.warning("database unavailable: %s", type(err).__name__)
    return _answer(DB_MESSAGE, "database")


def _redis_down(err: RedisError):
    from flask import current_app

    from app.hot import outage

    breaker = outage(current_app.config["CW_SETTINGS"])
    if breaker is not None:
        breaker.tripped(err)
    log.warning("redis unavailable: %s", type(err).__name__)
    return _answer(REDIS_MESSAGE, "redis")


def init_app(server: Flask) -> None:
    for kind in (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError):
        server.register_error_handler(kind, _database_down)
    server.register_error_handler(RedisError, _redis_down)
