"""Give job functions an application context, wherever they run.

In embedded mode jobs run inside the web process, which already pushed its app
context. In an ``rq worker`` process the first job builds the app once from the
environment (``create_app()``) and every job runs inside its context.
"""
from __future__ import annotations

import functools
from typing import Callable, TypeVar

from flask import has_app_context

F = TypeVar("F", bound=Callable)
_process_app = None  # one per worker process, built on first use


def _app():
    global _process_app
    if _process_app is None:
        from app import create_app

        _process_app = create_app()
    return _process_app


def with_app_context(func: F) -> F:
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if has_app_context():
            return func(*args, **kwargs)
        with _app().server.app_context():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
