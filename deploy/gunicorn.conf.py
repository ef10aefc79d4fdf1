"""gunicorn settings, from app.settings like everything else.

Embedded mode must run ONE worker process: its jobs and scheduler live in it. With several workers,
``PROMETHEUS_MULTIPROC_DIR`` (set by ``python -m workers.run web``) holds every worker's metric samples;
it is emptied when gunicorn starts and a dead worker's live gauges are dropped in ``child_exit``.
"""
from pathlib import Path

from app.settings import Settings

_settings = Settings.from_env()

bind = _settings.gunicorn_bind
workers = 1 if _settings.embedded else _settings.gunicorn_workers
threads = _settings.gunicorn_threads
timeout = 60
graceful_timeout = 20
# Longer than nginx's upstream keepalive_timeout (deploy/nginx/candlewise.conf.template: 60s), so nginx
# always closes an idle upstream connection first and never sends a request into one gunicorn is closing.
keepalive = _settings.gunicorn_keepalive_s
# The app writes one log line per request (app/ops/logs.py) with its request id, user and latency.
accesslog = None
# no gunicornc control socket: nothing uses it, and concurrent gunicorns on one host would share its path
control_socket_disable = True
errorlog = "-"
loglevel = _settings.log_level.lower()
forwarded_allow_ips = _settings.forwarded_allow_ips
if _settings.json_logs:
    # gunicorn's own lines go through the app's JSON handler (redaction included), like every other line
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"level": _settings.log_level.upper(), "handlers": ["candlewise"]},
        "loggers": {
            "gunicorn.error": {"level": _settings.log_level.upper(), "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": True},
        },
        "handlers": {"candlewise": {"()": "app.ops.logs.make_handler", "json_logs": True}},
        "formatters": {},
    }


def on_starting(server):
    """A fresh start: forget samples of processes that no longer exist."""
    if _settings.prometheus_multiproc_dir:
        directory = Path(_settings.prometheus_multiproc_dir)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()


def child_exit(server, worker):
    if _settings.prometheus_multiproc_dir:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, _settings.prometheus_multiproc_dir)


def post_worker_init(worker):
    """Embedded mode: start the in-process ingest scheduler inside the (single) web worker."""
    if _settings.embedded:
        from workers.schedule import InProcessScheduler

        InProcessScheduler(worker.wsgi).start()
