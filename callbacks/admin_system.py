"""Admin page, system panel: figures by interval; requeue or delete a failed job; clear a cache area
after confirmation (audited). Each callback calls ``require_admin()`` first."""
from __future__ import annotations

from datetime import datetime, timezone

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, ctx, html, no_update
from flask import current_app

import app.hot as hot
from app.audit.log import record
from app.auth.actor import current_actor
from app.auth.roles import require_admin
from app.extensions import db
from app.hot.breakers import read_states
from app.hot.cache_admin import clear
from app.hot.processes import ProcessStats
from app.market import store
from app.market.freshness import series_freshness
from app.models.user import utcnow
from app.ops import system_stats
from callbacks import inputs
from app.settings import MARKET_SOURCES
from pages._admin_system import (CACHE_AREA, CACHE_BTN, CONFIRM_CACHE, DROP, REQUEUE, SYS_BREAKERS, SYS_CRON,
                                 SYS_FAILED, SYS_FRESH, SYS_MSG, SYS_POLL, SYS_QUEUES, SYS_STATS, SYS_WORKERS)
from workers import inspect
from workers.schedule import next_refreshes

EXCHANGES = tuple(s for s in MARKET_SOURCES if s not in ("auto", "demo"))  # the ones behind a breaker
BREAKER_COLORS = {"closed": "success", "half-open": "warning", "open": "danger"}


def _table(head, rows, tid):
    return dbc.Table([html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(rows)], size="sm", id=tid)


def _stats(settings):
    p = system_stats.process()
    d = system_stats.database(db.session)
    db.session.rollback()
    parts = [f"web process {p['pid']}: CPU {p['cpu_percent']:.0f}%, {p['rss_mb']} MB, {p['threads']} threads",
             f"database ({d['backend']}): {d['size_mb']} MB"
             + (f", {d['connections']} connections" if d["connections"] is not None else "")]
    if not settings.embedded:
        r = system_stats.redis_info(hot.redis_connection(settings.redis_url))
        rate = "—" if r["hit_rate"] is None else f"{100 * r['hit_rate']:.1f}%"
        parts.append(f"Redis: {r['used_memory_mb']} MB, hit rate {rate}, {r['clients']} clients")
    return html.Ul([html.Li(t) for t in parts], id="admin-system-figures", className="small mb-0")


def _age(seconds):
    if seconds is None:
        return "—"
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def _freshness():
    rows = series_freshness(store.list_series(db.session.connection()), utcnow())
    db.session.rollback()
    if not rows:
        return html.P("No series stored yet.", className="text-muted small")
    body = [html.Tr([html.Td(f.exchange), html.Td(f.symbol), html.Td(f.timeframe),
                     html.Td(f"{f.last_bar:%Y-%m-%d %H:%M}" if f.last_bar is not None else "no bars"),
                     html.Td(_age(f.age_s)),
                     html.Td(dbc.Badge("—" if f.bars_behind is None else f.bars_behind,
                                       color="danger" if f.stale else "success"))]) for f in rows]
    return _table(("exchange", "symbol", "tf", "last bar (UTC)", "age", "closed bars missing"), body,
                  "admin-system-freshness-table")


def _failed_rows(jobs):
    return [html.Tr([
        html.Td(j.queue), html.Td(j.func), html.Td(j.ended_at or "—"),
        html.Td(html.Details([html.Summary((j.traceback.strip().splitlines() or ["?"])[-1][:120]),
                              html.Pre(j.traceback, className="small")])),
        html.Td([dbc.Button("Requeue", size="sm", color="outline-info", id={"type": REQUEUE, "index": f"{j.queue}|{j.id}"}),
                 dbc.Button("Delete", size="sm", color="outline-danger", className="ms-1",
                            id={"type": DROP, "index": f"{j.queue}|{j.id}"})], className="text-nowrap"),
    ]) for j in jobs]


def _proc_cells(doc):
    """CPU, memory and report age of one worker (its heartbeat's ``app.hot.processes`` report)."""
    if not doc:
        return [html.Td("—"), html.Td("—"), html.Td("not yet")]
    cpu = doc.get("cpu_percent")
    age = max(0.0, utcnow().timestamp() - float(doc.get("at") or 0))
    return [html.Td("—" if cpu is None else f"{cpu:.0f}%"), html.Td(f"{doc.get('rss_mb', 0)} MB"),
            html.Td(f"{_age(age)} ago")]


def _when(moment):
    return "—" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S}"


def _cron(settings):
    """Scheduled jobs and their next run: RQ's registry of `rq cron` processes, or the in-process scheduler."""
    if settings.embedded:
        rows = [html.Tr([html.Td(name), html.Td("ingest"), html.Td(cron), html.Td(_when(nxt)), html.Td("—")])
                for name, cron, nxt in next_refreshes(settings.timeframes, utcnow())]
        return html.Div([html.P("Embedded mode: the in-process scheduler runs the refreshes.",
                                className="text-muted small mb-1"),
                         _table(("job", "queue", "cron (UTC)", "next run (UTC)", "last run"), rows,
                                "admin-system-cron-table")])
    jobs = inspect.cron_jobs(hot.redis_connection(settings.redis_url))
    if not jobs:
        return html.P("No `rq cron` process is running: nothing is scheduled.", className="text-warning small")
    rows = [html.Tr([html.Td(j.name), html.Td(j.queue), html.Td(j.cron or "interval"), html.Td(_when(j.next_run)),
                     html.Td(_when(j.last_run))]) for j in jobs]
    return _table(("job", "queue", "cron", "next run (UTC)", "last run (UTC)"), rows, "admin-system-cron-table")


def _breakers(settings):
    """Each exchange's circuit breaker as every worker sees it (pybreaker's state in Redis, one MGET)."""
    if settings.embedded:
        return html.P("Embedded mode: each breaker lives in this process; see Market data feeds.",
                      className="text-muted small")
    states = read_states(hot.redis_connection(settings.redis_url), settings.redis_prefix, EXCHANGES)
    rows = [html.Tr([html.Td(b.exchange),
                     html.Td(dbc.Badge(b.state, color=BREAKER_COLORS.get(b.state, "secondary"))),
                     html.Td(b.failures),
                     html.Td("—" if b.opened_at is None else f"{datetime.fromtimestamp(b.opened_at, timezone.utc):%Y-%m-%d %H:%M:%S}")])
            for b in states]
    return _table(("exchange", "state", "consecutive failures", "last opened (UTC)"), rows,
                  "admin-system-breakers-table")


def _jobs(settings):
    if settings.embedded:
        note = html.P("Embedded mode: jobs run on in-process threads (no RQ queues).", className="text-muted small")
        return note, note, note
    conn = hot.redis_connection(settings.redis_url)
    queues = _table(("queue", "queued", "running", "failed"),
                    [html.Tr([html.Td(q.name), html.Td(q.queued), html.Td(q.started), html.Td(q.failed)])
                     for q in inspect.queues(conn)], "admin-system-queues-table")
    ws = inspect.workers(conn)
    procs = ProcessStats(conn, settings.redis_prefix).read_all() if ws else {}
    workers = (_table(("worker", "state", "queues", "current job", "CPU", "memory", "reported"),
                      [html.Tr([html.Td(w.name), html.Td(w.state), html.Td(", ".join(w.queues)),
                                html.Td(w.current_job or "—"), *_proc_cells(procs.get(w.name))]) for w in ws],
                      "admin-system-workers-table")
               if ws else html.P("No RQ worker is running.", className="text-warning small"))
    failed = inspect.failed_jobs(conn)
    failed_view = (_table(("queue", "job", "ended", "error", ""), _failed_rows(failed), "admin-system-failed-table")
                   if failed else html.P("No failed jobs.", className="text-muted small"))
    return queues, workers, failed_view


@callback(Output(SYS_STATS, "children"), Output(SYS_QUEUES, "children"), Output(SYS_WORKERS, "children"),
          Output(SYS_FAILED, "children"), Output(SYS_FRESH, "children"), Output(SYS_CRON, "children"),
          Output(SYS_BREAKERS, "children"), Input(SYS_POLL, "n_intervals"))
def refresh(_n):
    require_admin()
    settings = current_app.config["CW_SETTINGS"]
    return (_stats(settings), *_jobs(settings), _freshness(), _cron(settings), _breakers(settings))


@callback(Output(SYS_FAILED, "children", allow_duplicate=True), Output(SYS_MSG, "children"),
          Input({"type": REQUEUE, "index": ALL}, "n_clicks"), Input({"type": DROP, "index": ALL}, "n_clicks"),
          prevent_initial_call=True)
def failed_action(_requeue, _drop):
    require_admin()
    _requeue, _drop = inputs.ADMIN_FAILED_JOB(_requeue, _drop)
    if ctx.triggered_id is None or not ctx.triggered or not ctx.triggered[0].get("value"):
        return no_update, no_update
    kind, queue, job_id = inputs.failed_job_target(ctx.triggered_id, (REQUEUE, DROP))
    settings = current_app.config["CW_SETTINGS"]
    if settings.embedded:
        return no_update, dbc.Alert("Embedded mode has no failed-job registry.", color="secondary")
    conn = hot.redis_connection(settings.redis_url)
    requeue = kind == REQUEUE
    try:
        (inspect.requeue if requeue else inspect.delete)(conn, queue, job_id)
    except ValueError as exc:
        return no_update, dbc.Alert(str(exc), color="danger", id="admin-system-alert")
    record(db.session, "job.requeue" if requeue else "job.delete", current_actor(), target=f"{queue} {job_id}")
    db.session.commit()
    _q, _w, failed = _jobs(settings)
    return failed, dbc.Alert(f"Job {job_id} {'requeued' if requeue else 'deleted'}.", color="success",
                             id="admin-system-alert", duration=5000)


@callback(Output(CONFIRM_CACHE, "displayed"), Output(CONFIRM_CACHE, "message"), Input(CACHE_BTN, "n_clicks"),
          State(CACHE_AREA, "value"), prevent_initial_call=True)
def ask_clear(n, area):
    require_admin()
    n, area = inputs.ADMIN_ASK_CLEAR(n, area)
    if not n:
        return False, no_update
    return True, f"Clear every key of the cache area {area!r}? Pages read the database until jobs refill it."


@callback(Output(SYS_MSG, "children", allow_duplicate=True), Input(CONFIRM_CACHE, "submit_n_clicks"),
          State(CACHE_AREA, "value"), prevent_initial_call=True)
def clear_cache(n, area):
    require_admin()
    n, area = inputs.ADMIN_CLEAR_CACHE(n, area)
    if not n:
        return no_update
    settings = current_app.config["CW_SETTINGS"]
    if settings.embedded:
        return dbc.Alert("Embedded mode keeps no Redis cache to clear.", color="secondary", id="admin-system-alert")
    try:
        removed = clear(hot.redis_connection(settings.redis_url), settings.redis_prefix, area)
    except ValueError as exc:
        return dbc.Alert(str(exc), color="danger", id="admin-system-alert")
    record(db.session, "cache.clear", current_actor(), target=f"{settings.redis_prefix}:{area}",
           after={"keys_removed": removed})
    db.session.commit()
    return dbc.Alert(f"Cleared {removed} key(s) under {settings.redis_prefix}:{area}.", color="success",
                     id="admin-system-alert")
