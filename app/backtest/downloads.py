"""Report downloads of a stored backtest: trades CSV, result JSON, XLSX workbook, HTML tear sheet.

``GET /backtests/<id>/download/<name>`` with ``name`` one of
``service.REPORTS``. The request guard already refuses anonymous requests;
here the run's owner is checked on the server: another user's run, an
unknown one, or one without a result yet is a 404 (not a 403, so ids of
other users' runs are not confirmed).
"""
from __future__ import annotations

import io

from flask import Blueprint, abort, send_file
from flask_login import current_user

from app.backtest import service
from app.extensions import db

bp = Blueprint("backtest_downloads", __name__)


def download_url(backtest_id: int, name: str) -> str:
    return f"/backtests/{int(backtest_id)}/download/{name}"


@bp.get("/backtests/<int:backtest_id>/download/<name>")
def download(backtest_id: int, name: str):
    if not current_user.is_authenticated:
        abort(404)
    try:
        body, mimetype, filename = service.report(db.session, current_user.id, backtest_id, name)
    except service.RunNotFound:
        abort(404)
    # send_file writes Content-Disposition per RFC 6266: an ASCII filename= and, when needed, filename*=UTF-8''...
    response = send_file(io.BytesIO(body), mimetype=mimetype, as_attachment=True, download_name=filename,
                         conditional=False, etag=False, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
