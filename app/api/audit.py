"""``GET /admin/audit.csv``: the audit log as CSV, for admins only (the role is re-checked here).

Query parameters are those of the Admin page's filter: ``action``, ``text``, ``since``, ``until``
(ISO-8601 with a zone) and ``limit``; a bad one is a 400 that names it.
"""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, request

from app.audit.query import MAX_ROWS, AuditFilter, search, to_csv
from app.auth.roles import require_admin
from app.extensions import db

bp = Blueprint("audit_export", __name__)


def _when(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{name} must be an ISO-8601 time, got {raw!r}") from None
    if value.tzinfo is None:
        raise ValueError(f"{name} must include a time zone (e.g. +00:00)")
    return value


def filter_from_args() -> AuditFilter:
    limit = request.args.get("limit", str(MAX_ROWS))
    if not limit.isdigit():
        raise ValueError(f"limit must be a whole number, got {limit!r}")
    return AuditFilter(action=request.args.get("action") or None, text=request.args.get("text") or None,
                       since=_when("since"), until=_when("until"), limit=int(limit))


@bp.get("/admin/audit.csv")
def export_csv():
    require_admin()
    try:
        filt = filter_from_args()
    except ValueError as exc:
        return {"error": str(exc)}, 400
    body = to_csv(search(db.session, filt))
    db.session.rollback()  # end the read transaction
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=candlewise-audit.csv",
                             "Cache-Control": "no-store"})
