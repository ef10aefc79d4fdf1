"""``/api/v1/backtests``: submit runs (``trade`` scope), poll status and progress, read results, download reports.

Submitting goes through ``workers.submission.submit`` (``workers.backtests.submit``), the call the Backtests page makes: the same
``app.backtest.requests`` validation, caps and catalog checks, nothing written or enqueued on bad
input. Reads are the owner's only: another user's run is a 404, like an unknown id.
"""
from __future__ import annotations

import io
import logging

from flask import current_app, g, send_file
from flask_smorest import abort

from app.api.v1.auth import require, resource_blueprint
from app.api.v1.common import iso
from app.api.v1.schemas import (BacktestListQuerySchema, BacktestListSchema, BacktestRequestSchema,
                                BacktestSchema, SubmittedSchema)
from app.extensions import db

blp = resource_blueprint("backtests", __name__, "/api/v1/backtests", "Backtests: submit, status, results, reports")
from app.api.downloads import REPORTS  # noqa: E402 - the one list of report downloads (name -> mimetype)

REPORT_NAMES = tuple(REPORTS)
log = logging.getLogger(__name__)
# which request field a validation message is about (the messages name the field by its label)
# (the first rule whose words the message holds wins)
LABEL_FIELDS = (("unknown symbol", "symbols"), ("symbol", "symbols"), ("no market data", "symbols"),
                ("candles for", "timeframe"), ("start date", "start"), ("end date", "end"),
                ("strateg", "strategy"), ("parameter", "params"), ("combination", "params"))


def url_of(backtest_id: int) -> str:
    return f"/api/v1/backtests/{int(backtest_id)}"


def view(row) -> dict:
    finished = row.status == "finished"
    return {"id": row.id, "url": url_of(row.id), "status": row.status, "progress": float(row.progress or 0.0),
            "phase": row.phase, "error": row.error, "kind": row.kind, "batch_id": row.batch_id,
            "exchange": row.exchange, "symbol": row.symbol, "timeframe": row.timeframe, "strategy": row.strategy,
            "params": row.params or {}, "start": iso(row.start_at), "end": iso(row.end_at),
            "created_at": iso(row.created_at), "started_at": iso(row.started_at),
            "finished_at": iso(row.finished_at), "n_bars": row.n_bars,
            "metrics": row.metrics if finished else None,
            "benchmark_metrics": row.benchmark_metrics if finished else None,
            "reports": {n: f"{url_of(row.id)}/reports/{n}" for n in REPORT_NAMES} if finished else {}}


def field_of(message: str) -> str:
    """The request field a domain validation message names (``json`` when it is about the whole request)."""
    from app.backtest.requests import FIELDS

    text = message.lower()
    for key, f in FIELDS.items():
        if text.startswith(f.label.lower()):
            return f"json.{key}"
    for words, key in LABEL_FIELDS:
        if words in text:
            return f"json.{key}"
    return "json"


@blp.get("")
@blp.arguments(BacktestListQuerySchema(), location="query")
@blp.response(200, BacktestListSchema)
@require("read")
def list_backtests(args):
    """The token owner's runs, newest first (optionally one batch)."""
    from app.backtest.results import batch_rows, list_runs

    if args["batch_id"]:
        rows = [r for r in batch_rows(db.session, args["batch_id"]) if r.user_id == g.api_user_id]
    else:
        rows = list_runs(db.session, g.api_user_id, limit=args["limit"])
    out = {"backtests": [view(r) for r in rows]}
    db.session.commit()
    return out


@blp.post("")
@blp.arguments(BacktestRequestSchema(), location="json")
@blp.response(202, SubmittedSchema)
@require("trade")
def submit(form):
    """Queue one run or a batch (lists of parameter values, several symbols or strategies, or walk-forward)."""
    from app.backtest.requests import InvalidRequest
    from workers import submission as jobs

    form = {k: v for k, v in form.items() if v is not None}
    try:
        submitted = jobs.submit(db.session, g.api_user_id, form)
    except InvalidRequest as exc:
        db.session.rollback()
        abort(422, message="the backtest request is invalid",
              errors=[{"field": field_of(m), "message": m} for m in exc.errors])
    url = (url_of(submitted.ids[0]) if submitted.batch_id is None
           else f"/api/v1/backtests?batch_id={submitted.batch_id}")
    return ({"ids": submitted.ids, "batch_id": submitted.batch_id, "job_id": submitted.job_id, "url": url},
            202, {"Location": url})


@blp.get("/<int(min=1, max=2147483647):backtest_id>")  # a database integer; others match no route (404)
@blp.response(200, BacktestSchema)
@require("read")
def get_backtest(backtest_id: int):
    """Status, progress and (when finished) the headline metrics of one of the owner's runs."""
    from app.backtest.results import RunNotFound, get_run

    try:
        row = get_run(db.session, g.api_user_id, backtest_id)
    except RunNotFound:
        abort(404, message=f"no backtest {backtest_id}")
    out = view(row)
    db.session.commit()
    return out


@blp.get("/<int(min=1, max=2147483647):backtest_id>/reports/<name>")
@blp.response(200, description="The report file", content_type="application/octet-stream")
@blp.doc(responses={"200": {"content": {
    mimetype: {"schema": {"type": "object"} if mimetype == "application/json" else {"type": "string"}}
    for mimetype, _suffix in REPORTS.values()}}})
# the PDF could not be printed: a problem whose ``detail`` names the cause (Chromium failed or was too slow,
# the server's temporary disk is full)
@blp.alt_response(503, "SERVICE_UNAVAILABLE")
@require("read")
def report(backtest_id: int, name: str):
    """A report of a finished run, one of the site's downloads (``trades.csv``, ``result.json``, ``report.xlsx``, ...)."""
    from app.api.downloads import PDF_RETRY_AFTER_S, pdf_unavailable, render_report
    from app.backtest.results import RunNotFound
    from app.figures.pdf import PdfError

    if name not in REPORT_NAMES:
        abort(404, message=f"no report {name!r}; reports: {', '.join(REPORT_NAMES)}")
    try:
        body, mimetype, filename = render_report(db.session, g.api_user_id, backtest_id, name,
                                                 current_app.config["CW_SETTINGS"])
    except RunNotFound:
        db.session.rollback()
        abort(404, message=f"no finished backtest {backtest_id}")
    except PdfError as exc:
        db.session.rollback()
        log.error("backtest %s: the PDF report could not be printed: %s", backtest_id, exc)
        abort(503, message=pdf_unavailable(exc), headers={"Retry-After": str(PDF_RETRY_AFTER_S)})
    db.session.commit()
    response = send_file(io.BytesIO(body), mimetype=mimetype, as_attachment=True, download_name=filename,
                         conditional=False, etag=False, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
