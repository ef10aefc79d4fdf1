"""Report downloads of a stored backtest: trades CSV, result JSON, XLSX workbook, HTML tear sheet and its PDF.

``GET /backtests/<id>/download/<name>`` with ``name`` one of
``REPORTS``. The request guard already refuses anonymous requests;
here the run's owner is checked on the server: another user's run, an
unknown one, or one without a result yet is a 404 (not a 403, so ids of
other users' runs are not confirmed).

A PDF that cannot be printed (Chromium missing, failed or too slow, the temporary disk full) is a 503
with ``Retry-After`` and a message naming the cause (:func:`pdf_unavailable`), the same words on the
site's route and the REST API's; the details go to the log.
"""
from __future__ import annotations

import io
import json
import logging

from flask import Blueprint, abort, current_app, jsonify, send_file
from flask_login import current_user
from sqlalchemy.orm import Session

from app.extensions import db
from app.settings import Settings

REPORTS = {  # download name -> (mimetype, file suffix)
    "trades.csv": ("text/csv", "trades.csv"),
    "result.json": ("application/json", "result.json"),
    "report.xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "report.xlsx"),
    "tearsheet.html": ("text/html", "tearsheet.html"),
    "report.pdf": ("application/pdf", "report.pdf"),
}

log = logging.getLogger(__name__)
bp = Blueprint("backtest_downloads", __name__)


def render_report(session: Session, user_id: int, backtest_id: int, name: str,
                  settings: Settings | None = None) -> tuple[bytes, str, str]:
    """(body, mimetype, filename) of one download of the user's own finished run.

    The PDF is the HTML tear sheet printed by headless Chromium (``settings.chromium_bin``).

    The renderers are imported here, not at module level: the server factory registers this
    blueprint in every process, and a worker must not load the backtest engine or plotly for it.
    """
    from app.backtest.reports import to_dict, to_xlsx, trades_csv
    from app.backtest.results import RunNotFound, get_run, rebuild
    from app.figures.tearsheet import tear_sheet_html

    if name not in REPORTS:
        raise RunNotFound(f"no report {name!r}")
    row = get_run(session, user_id, backtest_id)
    result, bench = rebuild(session, row)
    mimetype, suffix = REPORTS[name]
    filename = f"backtest-{row.id}-{row.strategy}-{row.symbol.replace('/', '')}-{row.timeframe}-{suffix}"
    if name == "trades.csv":
        body = trades_csv(result)
    elif name == "result.json":
        doc = to_dict(result, bench)
        doc["run"] = {"id": row.id, "kind": row.kind, "batch_id": row.batch_id, "request": row.config,
                      "walk_forward_windows": (row.details or {}).get("windows")}
        body = json.dumps(doc, allow_nan=False).encode("utf-8")
    elif name == "report.xlsx":
        body = to_xlsx(result, bench)
    elif name == "report.pdf":
        from app.figures.pdf import html_to_pdf

        settings = settings or Settings()
        body = html_to_pdf(tear_sheet_html(result, bench), settings.chromium_bin, settings.pdf_timeout_s)
    else:
        body = tear_sheet_html(result, bench).encode("utf-8")
    return body, mimetype, filename


PDF_RETRY_AFTER_S = 30


def pdf_unavailable(exc) -> str:
    """What the user reads when the PDF of a run could not be printed (``exc``: an ``app.figures.pdf.PdfError``)."""
    return (f"The PDF report could not be made: {exc.reason}. Nothing was kept; try again later, "
            "or download the HTML tear sheet.")


def download_url(backtest_id: int, name: str) -> str:
    return f"/backtests/{int(backtest_id)}/download/{name}"


@bp.get("/backtests/<int:backtest_id>/download/<name>")
def download(backtest_id: int, name: str):
    from app.backtest.results import RunNotFound
    from app.figures.pdf import PdfError

    if not current_user.is_authenticated:
        abort(404)
    try:
        body, mimetype, filename = render_report(db.session, current_user.id, backtest_id, name,
                                                 current_app.config["CW_SETTINGS"])
    except RunNotFound:
        abort(404)
    except PdfError as exc:
        log.error("backtest %s: the PDF report could not be printed: %s", backtest_id, exc)
        resp = jsonify(status="unavailable", service="pdf", message=pdf_unavailable(exc))
        resp.status_code = 503
        resp.headers["Retry-After"] = str(PDF_RETRY_AFTER_S)
        resp.headers["Cache-Control"] = "no-store"
        return resp
    # send_file writes Content-Disposition per RFC 6266: an ASCII filename= and, when needed, filename*=UTF-8''...
    response = send_file(io.BytesIO(body), mimetype=mimetype, as_attachment=True, download_name=filename,
                         conditional=False, etag=False, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
