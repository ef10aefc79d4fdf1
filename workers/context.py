"""Give job functions an application context, wherever they run.

In embedded mode jobs run inside the web process, which already pushed its app context. In an
``rq worker`` process the server (``app.server.create_server``: Flask and its extensions, no Dash,
no pages, no callbacks) is built once per process and every job runs inside its context. With
``workers.worker.Worker`` the worker builds it before it forks its work horses, so a job starts
with everything imported; the horse then drops the database connections it inherited.
"""
from __future__ import annotations

import functools
import os
from typing import Callable, TypeVar

from flask import Flask, has_app_context

F = TypeVar("F", bound=Callable)
_process_server: Flask | None = None  # one per worker process, built on first use


def _drop_inherited_connections() -> None:
    """In a forked child: forget the parent's pooled connections without closing them (SQLAlchemy's rule)."""
    if _process_server is None:
        return
    from app.extensions import db

    with _process_server.app_context():
        db.engine.dispose(close=False)


def server() -> Flask:
    """This process's Flask server, built from the environment on first use."""
    global _process_server
    if _process_server is None:
        from app.server import create_server

        _process_server = create_server()
        os.register_at_fork(after_in_child=_drop_inherited_connections)
    return _process_server


def with_app_context(func: F) -> F:
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if has_app_context():
            return func(*args, **kwargs)
        with server().app_context():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
