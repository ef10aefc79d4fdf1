"""Liveness (/healthz) and readiness (/readyz: database and Redis reachable)."""
from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from app.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


def _check_db() -> str | None:
    try:
        db.session.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        db.session.rollback()
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"


def _check_redis() -> str | None:
    settings = current_app.config["CW_SETTINGS"]
    if settings.embedded:
        return None
    from app.hot import redis_connection

    try:
        redis_connection(settings.redis_url).ping()
        return None
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {str(exc)[:200]}"


@bp.get("/readyz")
def readyz():
    started = time.perf_counter()
    checks = {"database": _check_db(), "redis": _check_redis()}
    settings = current_app.config["CW_SETTINGS"]
    body = {
        "status": "ready" if all(v is None for v in checks.values()) else "unavailable",
        "checks": {
            name: ("ok" if err is None else f"fail: {err}")
            for name, err in checks.items()
        },
        "mode": "embedded" if settings.embedded else "production",
        "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
    }
    if not settings.embedded:  # what the pages do about it (app.hot.outage)
        body["hot_state"] = "degraded" if checks["redis"] is not None else "ok"
        if checks["redis"] is not None:
            body["degraded"] = "pages serve from the database; live updates pause until Redis is back"
    if settings.embedded:
        body["checks"]["redis"] = "not configured (embedded mode: jobs run in-process)"
    failed = [name for name, err in checks.items() if err is not None]
    if failed:
        body["failed"] = failed
        return jsonify(body), 503
    return jsonify(body)
