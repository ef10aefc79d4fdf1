"""gunicorn settings. Embedded mode must run ONE worker process: its jobs and scheduler live in it."""
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8050")
_embedded = not os.environ.get("REDIS_URL")
workers = 1 if _embedded else int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = 60
graceful_timeout = 20
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_worker_init(worker):
    """Embedded mode: start the in-process ingest scheduler inside the (single) web worker."""
    if _embedded and os.environ.get("CW_SCHEDULER", "1") != "0":
        from workers.schedule import InProcessScheduler

        InProcessScheduler(worker.wsgi).start()
